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
from types import SimpleNamespace

import numpy as np
import torch

from robotlearn.errors import ConfigError
from robotlearn.policies.sac.config import SACConfig
from robotlearn.rl.buffer import ReplayBuffer

STATE_KEY = "observation.state"


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


def box_meta(env) -> SimpleNamespace:
    """Dataset-style features and stats for a Box-observation, Box-action gymnasium env: the state
    normalized by its bounds where they are finite (mean 0, std 1 where not), actions by their bounds."""
    from gymnasium import spaces

    if not isinstance(env.observation_space, spaces.Box) or not isinstance(env.action_space, spaces.Box):
        raise ConfigError(f"{env.spec.id if env.spec else env}: SAC here needs Box observation and action spaces")
    low, high = (np.asarray(b, dtype=np.float64) for b in (env.observation_space.low, env.observation_space.high))
    finite = np.isfinite(low) & np.isfinite(high)
    mean = np.where(finite, (low + high) / 2, 0.0)
    std = np.where(finite, (high - low) / 2, 1.0)
    a_low, a_high = env.action_space.low.astype(np.float64), env.action_space.high.astype(np.float64)
    n_obs, n_act = int(np.prod(env.observation_space.shape)), int(np.prod(env.action_space.shape))
    features = {
        STATE_KEY: {"dtype": "float32", "shape": [n_obs], "names": None},
        "action": {"dtype": "float32", "shape": [n_act], "names": None},
    }
    stats = {STATE_KEY: {"mean": mean, "std": std}, "action": {"min": a_low, "max": a_high}}
    return SimpleNamespace(features=features, stats=stats)


def evaluate(policy, env_id: str, episodes: int, seed0: int = 10_000) -> list[float]:
    """Returns of `episodes` deterministic episodes on seeds seed0, seed0 + 1, ..."""
    import gymnasium as gym

    env = gym.make(env_id)
    returns = []
    policy.eval()
    for i in range(episodes):
        obs, _ = env.reset(seed=seed0 + i)
        total, done = 0.0, False
        while not done:
            action = policy.select_action({STATE_KEY: torch.as_tensor(obs, dtype=torch.float32)[None]})[0].numpy()
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    return returns


def train_sac(cfg: SACTrainConfig, on_log: Callable[[int, dict], None] | None = None) -> SACTrainResult:
    """Trains SAC online for `cfg.steps` environment steps, then evaluates the deterministic policy."""
    import gymnasium as gym

    from robotlearn.policies.factory import make_policy_from_config

    torch.set_num_threads(cfg.num_threads)
    torch.manual_seed(cfg.seed)
    env = gym.make(cfg.env_id)
    env.action_space.seed(cfg.seed)
    meta = box_meta(env)
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
            action = policy.sample_action({STATE_KEY: torch.as_tensor(obs, dtype=torch.float32)[None]})[0].numpy()
        next_obs, reward, terminated, truncated, _ = env.step(action)
        buffer.add({STATE_KEY: obs}, action, reward, terminated, truncated, {STATE_KEY: next_obs})
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
