"""gym-hil's MuJoCo Panda tasks (HIL-SERL's simulated benchmark), headless (`--env.type=gym_hil`).

    env = make_env("gym_hil", task="PandaPickCubeBase-v0", max_steps=100)
    obs, info = env.reset(seed=0)   # observation.images.front / .wrist (128, 128, 3) uint8, observation.state (18,)

Only the Base variants run without a display: the Gamepad/Keyboard/Viewer ones open MuJoCo's viewer.
Rendering uses EGL (`MUJOCO_GL=egl`, set here unless already set); on a CPU without a GPU that is
software rendering, about a step per second with both cameras, so `image_obs=false` (state only)
is the fast way to try things. Success is gym-hil's own (`info["succeed"]`: the cube lifted).
Needs the `hil` extra: pip install 'robotlearn[hil]'.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np

from robotlearn.envs.configs import GymHilEnvConfig
from robotlearn.errors import ConfigError, MissingDependencyError

STATE_KEY = "observation.state"
CAMERAS = ("front", "wrist")


class GymHilEnv:
    config_class = GymHilEnvConfig
    fps = 10

    @classmethod
    def from_config(cls, config: GymHilEnvConfig, max_steps: int | None = None) -> GymHilEnv:
        return cls(config.task, image_obs=config.image_obs, max_steps=max_steps)

    def __init__(self, task: str = "PandaPickCubeBase-v0", image_obs: bool = True, max_steps: int | None = None):
        if not task.endswith("Base-v0"):
            raise ConfigError(
                f"--env.task={task}: only the headless Base variants run here (e.g. PandaPickCubeBase-v0)"
            )
        os.environ.setdefault("MUJOCO_GL", "egl")
        try:
            import gym_hil  # noqa: F401  (registers the gym_hil/ ids)
            import gymnasium as gym
        except ImportError:
            raise MissingDependencyError("--env.type=gym_hil needs gym-hil: pip install 'robotlearn[hil]'") from None
        kwargs = {"max_episode_steps": max_steps} if max_steps is not None else {}
        self._env = gym.make(f"gym_hil/{task}", render_mode="rgb_array", image_obs=image_obs, **kwargs)
        self.task, self.image_obs = task, image_obs
        self._steps = 0

    @property
    def action_space(self):
        return self._env.action_space

    @property
    def steps(self) -> int:
        return self._steps

    def _obs(self, obs) -> dict:
        out = {STATE_KEY: np.asarray(obs["agent_pos"], dtype=np.float32)}
        if self.image_obs:
            for cam in CAMERAS:
                out[f"observation.images.{cam}"] = np.ascontiguousarray(obs["pixels"][cam], dtype=np.uint8)
        return out

    def reset(self, seed: int | None = None) -> tuple[dict, dict]:
        obs, info = self._env.reset(seed=seed)
        self._steps = 0
        return self._obs(obs), {**info, "is_success": False}

    def step(self, action) -> tuple[dict, float, bool, bool, dict]:
        action = np.asarray(action, dtype=np.float32).reshape(self._env.action_space.shape)
        obs, reward, terminated, truncated, info = self._env.step(action)
        self._steps += 1
        return (
            self._obs(obs),
            float(reward),
            bool(terminated),
            bool(truncated),
            {
                **info,
                "is_success": bool(info.get("succeed", False)),
            },
        )

    def render(self) -> np.ndarray:
        """The cameras side by side, (H, W * n, 3) uint8 (gym-hil returns one image per camera)."""
        frames = self._env.render()
        if isinstance(frames, (list, tuple)):
            frames = np.concatenate([np.asarray(f) for f in frames], axis=1)
        return np.ascontiguousarray(frames, dtype=np.uint8)

    def close(self) -> None:
        self._env.close()

    def dataset_meta(self) -> SimpleNamespace:
        """Features and statistics for building a policy (the state is left unnormalized: mean 0,
        std 1; actions are in gym-hil's [-1, 1] box)."""
        n_state, n_act = self._env.observation_space["agent_pos"].shape[0], self._env.action_space.shape[0]
        features = {
            STATE_KEY: {"dtype": "float32", "shape": [n_state], "names": None},
            "action": {"dtype": "float32", "shape": [n_act], "names": None},
        }
        stats = {
            STATE_KEY: {"mean": np.zeros(n_state), "std": np.ones(n_state)},
            "action": {
                "min": np.asarray(self._env.action_space.low, np.float64),
                "max": np.asarray(self._env.action_space.high, np.float64),
            },
        }
        if self.image_obs:
            for cam in CAMERAS:
                h, w, c = self._env.observation_space["pixels"][cam].shape
                features[f"observation.images.{cam}"] = {
                    "dtype": "video",
                    "shape": [h, w, c],
                    "names": ["height", "width", "channels"],
                }
                stats[f"observation.images.{cam}"] = {"mean": np.full((3, 1, 1), 0.5), "std": np.full((3, 1, 1), 0.25)}
        return SimpleNamespace(features=features, stats=stats, fps=self.fps)
