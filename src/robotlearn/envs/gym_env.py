"""Any gymnasium task with Box observations and actions, in robotlearn's shape (`--env.type=gym`).

    env = make_env("gym", id="Pendulum-v1", max_steps=200)
    obs, info = env.reset(seed=0)          # {"observation.state": (D,) float32}
    obs, reward, terminated, truncated, info = env.step(action)

`dataset_meta()` gives the features and statistics a policy is built from (the state normalized by
its bounds where they are finite, actions by theirs), so a policy trained here (SAC) evaluates with
`robotlearn eval --env.type=gym --env.id=...` exactly as it acted during training.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from robotlearn.envs.configs import GymEnvConfig
from robotlearn.errors import ConfigError

STATE_KEY = "observation.state"


class GymEnv:
    config_class = GymEnvConfig

    @classmethod
    def from_config(cls, config: GymEnvConfig, max_steps: int | None = None) -> GymEnv:
        return cls(config.id, max_steps=max_steps)

    def __init__(self, env_id: str = "Pendulum-v1", max_steps: int | None = None):
        import gymnasium as gym
        from gymnasium import spaces

        try:
            self._env = gym.make(env_id, render_mode="rgb_array", max_episode_steps=max_steps)
        except gym.error.Error as e:
            raise ConfigError(f"--env.id={env_id}: {e}") from None
        if not isinstance(self._env.observation_space, spaces.Box) or not isinstance(
            self._env.action_space, spaces.Box
        ):
            raise ConfigError(f"--env.id={env_id}: needs Box observation and action spaces")
        self.id = env_id
        self.fps = int(self._env.metadata.get("render_fps", 30))

    @property
    def action_space(self):
        return self._env.action_space

    def reset(self, seed: int | None = None) -> tuple[dict, dict]:
        obs, info = self._env.reset(seed=seed)
        return self._obs(obs), {**info, "is_success": False}

    def step(self, action) -> tuple[dict, float, bool, bool, dict]:
        action = np.asarray(action, dtype=np.float32).reshape(self._env.action_space.shape)
        obs, reward, terminated, truncated, info = self._env.step(action)
        return self._obs(obs), float(reward), bool(terminated), bool(truncated), {"is_success": False, **info}

    def render(self) -> np.ndarray:
        return self._env.render()

    def close(self) -> None:
        self._env.close()

    @staticmethod
    def _obs(obs) -> dict:
        return {STATE_KEY: np.asarray(obs, dtype=np.float32).reshape(-1)}

    def dataset_meta(self) -> SimpleNamespace:
        """Dataset-style `features` and `stats` for building a policy (`make_policy_from_config`)."""
        obs_space, act_space = self._env.observation_space, self._env.action_space
        low, high = (np.asarray(b, dtype=np.float64).reshape(-1) for b in (obs_space.low, obs_space.high))
        finite = np.isfinite(low) & np.isfinite(high)
        n_act = int(np.prod(act_space.shape))
        features = {
            STATE_KEY: {"dtype": "float32", "shape": [len(low)], "names": None},
            "action": {"dtype": "float32", "shape": [n_act], "names": None},
        }
        stats = {
            STATE_KEY: {
                "mean": np.where(finite, (low + high) / 2, 0.0),
                "std": np.where(finite, (high - low) / 2, 1.0),
            },
            "action": {
                "min": np.asarray(act_space.low, np.float64).reshape(-1),
                "max": np.asarray(act_space.high, np.float64).reshape(-1),
            },
        }
        return SimpleNamespace(features=features, stats=stats, fps=self.fps)
