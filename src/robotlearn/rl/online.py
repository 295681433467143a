"""Online SAC on a gymnasium task in one process: act, store, update, repeat.

    result = train_sac(SACTrainConfig(env_id="Pendulum-v1", steps=20_000, seed=0))
    result.eval_return_mean                                # deterministic policy, held-out seeds

The correctness anchor of robotlearn's SAC (issue 12): Pendulum-v1 at 20k environment steps, where
the RL Zoo's tuned SAC reports -176 +- 102. Observations are the env's vector as
`observation.state`; the actor's tanh output is mapped onto the env's action bounds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from robotlearn.envs import make_env
from robotlearn.envs.gym_env import STATE_KEY  # the gym env's vector
from robotlearn.policies.sac.config import SACConfig
from robotlearn.rl.buffer import ReplayBuffer


@dataclass
class SACTrainConfig:
    env_id: str = "Pendulum-v1"
    """gymnasium id of a task with a Box observation and a Box action space."""
    steps: int = 20_000
    """Environment steps."""
    learning_starts: int = 1_000
    """Uniformly random actions for this many steps before the policy acts and learning starts."""
    batch_size: int = 256
    """Transitions per update."""
    utd_ratio: int = 1
    """Updates per environment step (update-to-data ratio)."""
    buffer_capacity: int = 100_000
    """Replay buffer frames."""
    seed: int = 0
    """Seed of the environment, the networks and the sampling."""
    eval_episodes: int = 10
    """Episodes of the final evaluation (deterministic policy), on seeds 10_000 + i."""
    num_threads: int = 1
    """torch threads."""
    policy: SACConfig = field(default_factory=lambda: SACConfig(actor_lr=1e-3, critic_lr=1e-3, temperature_lr=1e-3))
    """SAC hyper-parameters (the RL Zoo's Pendulum setting: learning rates 1e-3)."""


@dataclass
class SACTrainResult:
    policy: object
    eval_returns: list[float]
    train_returns: list[float]
    wall_s: float
    updates: int

    @property
    def eval_return_mean(self) -> float:
        return float(np.mean(self.eval_returns))


def evaluate(policy, env_id: str, episodes: int, seed0: int = 10_000) -> list[float]:
    """Returns of `episodes` deterministic episodes on seeds seed0, seed0 + 1, ..."""
    env = make_env("gym", id=env_id, max_steps=None)
    returns = []
    policy.eval()
    for i in range(episodes):
        obs, _ = env.reset(seed=seed0 + i)
        total, done = 0.0, False
        while not done:
            action = policy.select_action({STATE_KEY: torch.as_tensor(obs[STATE_KEY])[None]})[0].numpy()
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    return returns


def train_sac(cfg: SACTrainConfig, on_log: Callable[[int, dict], None] | None = None) -> SACTrainResult:
    """Trains SAC online for `cfg.steps` environment steps, then evaluates the deterministic policy."""
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.num_threads)
    try:
        return _train_sac(cfg, on_log)
    finally:
        torch.set_num_threads(threads)  # the caller's setting, as it was


def _train_sac(cfg: SACTrainConfig, on_log) -> SACTrainResult:
    from robotlearn.policies.factory import make_policy_from_config

    torch.manual_seed(cfg.seed)
    env = make_env("gym", id=cfg.env_id, max_steps=None)
    env.action_space.seed(cfg.seed)
    meta = env.dataset_meta()
    policy = make_policy_from_config(cfg.policy, meta)
    policy.generator = torch.Generator().manual_seed(cfg.seed)
    optimizer = torch.optim.Adam(policy.param_groups())
    buffer = ReplayBuffer(
        {STATE_KEY: meta.features[STATE_KEY]}, meta.features["action"]["shape"][0], cfg.buffer_capacity
    )
    sample_gen = torch.Generator().manual_seed(cfg.seed + 1)

    t0 = time.perf_counter()
    obs, _ = env.reset(seed=cfg.seed)
    episode_return, train_returns, updates, info = 0.0, [], 0, {}
    for step in range(cfg.steps):
        if step < cfg.learning_starts:
            action = env.action_space.sample()
        else:
            policy.eval()
            action = policy.sample_action({STATE_KEY: torch.as_tensor(obs[STATE_KEY])[None]})[0].numpy()
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add(obs, action, reward, terminated, truncated, next_obs)
        episode_return += float(reward)
        obs = next_obs
        if terminated or truncated:
            train_returns.append(episode_return)
            if on_log is not None:
                on_log(step + 1, {"episode_return": episode_return, **info})
            episode_return = 0.0
            obs, _ = env.reset()
        if step + 1 >= cfg.learning_starts:
            policy.train()
            for _ in range(cfg.utd_ratio):
                loss, info = policy(buffer.sample(cfg.batch_size, sample_gen))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                for group in optimizer.param_groups:
                    torch.nn.utils.clip_grad_norm_(group["params"], cfg.policy.grad_clip_norm)
                optimizer.step()
                policy.update_target()
                updates += 1
    env.close()
    wall = time.perf_counter() - t0
    eval_returns = evaluate(policy, cfg.env_id, cfg.eval_episodes)
    return SACTrainResult(policy.eval(), eval_returns, train_returns, wall, updates)
