"""Reach: move a point to a goal that only the camera shows (`--env.type=reach`), a task for RL from pixels.

A red point and a green goal disc in a square arena; an action (dx, dy) in [-1, 1]^2 moves the point by
`speed * action` (clipped to the arena). The observation is the top camera alone, so the goal's place is
in the pixels and nowhere else: a policy that succeeds has learned to see.

    obs["observation.images.top"]  uint8 (S, S, 3), S = image_size (32 by default)
    obs["observation.state"]       float32 (4,): point x, y, goal x, y (only with `with_state=true`)

Success: the point's centre inside the goal disc (visible in the frame, so a reward classifier can learn
it from images). The episode then ends unless `terminate_on_success=false` (record with that for a
classifier's dataset, so that successes last). Rewards: "dense" = minus the distance to the goal's
centre (in arena half-widths) per step, plus 10 on success; "success" = 1 on success, else 0.

Each reset draws the start and the goal at least 0.8 apart (seeded by `reset(seed=...)`), so a random
policy rarely reaches it in 40 steps: `benchmarks/bench_rl.py --only reach` measures that baseline next
to the learned policy. No extra dependencies (numpy only).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from robotlearn.envs.configs import ReachEnvConfig
from robotlearn.errors import ConfigError

IMAGE_KEY = "observation.images.top"
STATE_KEY = "observation.state"
FPS = 10
GOAL_RADIUS = 0.15  # in arena half-widths (the arena is [-1, 1]^2)
POINT_RADIUS = 0.1
MIN_START_DISTANCE = 0.8
REWARDS = ("dense", "success")
_BACKGROUND = np.array([40, 40, 48], np.uint8)
_GOAL = np.array([60, 200, 80], np.uint8)
_POINT = np.array([230, 60, 50], np.uint8)


class ReachEnv:
    config_class = ReachEnvConfig

    @classmethod
    def from_config(cls, config: ReachEnvConfig, max_steps: int | None = None) -> ReachEnv:
        return cls(
            image_size=config.image_size,
            render_size=config.render_size,
            reward=config.reward,
            terminate_on_success=config.terminate_on_success,
            speed=config.speed,
            with_state=config.with_state,
            max_steps=max_steps,
        )

    def __init__(
        self,
        image_size: int = 32,
        render_size: int = 128,
        reward: str = "dense",
        terminate_on_success: bool = True,
        speed: float = 0.1,
        with_state: bool = False,
        max_steps: int | None = None,
    ):
        from gymnasium import spaces

        if reward not in REWARDS:
            raise ConfigError(f"--env.reward={reward!r}: choose one of {', '.join(REWARDS)}")
        if image_size < 8 or render_size < 8:
            raise ConfigError(f"--env.image_size={image_size}, --env.render_size={render_size}: use at least 8 pixels")
        if not speed > 0:
            raise ConfigError(f"--env.speed={speed}: must be positive")
        self.image_size, self.render_size = int(image_size), int(render_size)
        self.reward_kind, self.terminate_on_success, self.speed = reward, bool(terminate_on_success), float(speed)
        self.with_state = bool(with_state)
        self.max_steps = max_steps
        self.fps = FPS
        self.action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)
        self._rng = np.random.default_rng()
        self.point = np.zeros(2)
        self.goal = np.zeros(2)
        self.steps = 0

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        while True:
            self.point = self._rng.uniform(-0.9, 0.9, 2)
            self.goal = self._rng.uniform(-0.8, 0.8, 2)
            if np.linalg.norm(self.point - self.goal) >= MIN_START_DISTANCE:
                break
        self.steps = 0
        return self._obs(), {"is_success": False}

    def step(self, action) -> tuple[dict, float, bool, bool, dict]:
        move = np.clip(np.asarray(action, dtype=np.float64).reshape(2), -1.0, 1.0)
        self.point = np.clip(self.point + self.speed * move, -1.0, 1.0)
        self.steps += 1
        distance = float(np.linalg.norm(self.point - self.goal))
        success = distance < GOAL_RADIUS
        if self.reward_kind == "dense":
            reward = -distance + (10.0 if success else 0.0)
        else:
            reward = float(success)
        terminated = success and self.terminate_on_success
        truncated = self.max_steps is not None and self.steps >= self.max_steps and not terminated
        return self._obs(), reward, terminated, truncated, {"is_success": success, "distance": distance}

    def _draw(self, size: int) -> np.ndarray:
        """The arena as (size, size, 3) uint8: background, goal disc, point on top (y up in the arena is
        up in the image)."""
        centres = (np.arange(size) + 0.5) / size * 2 - 1  # pixel centres in arena coordinates
        x, y = centres[None, :], -centres[:, None]
        frame = np.empty((size, size, 3), np.uint8)
        frame[:] = _BACKGROUND
        frame[(x - self.goal[0]) ** 2 + (y - self.goal[1]) ** 2 <= GOAL_RADIUS**2] = _GOAL
        frame[(x - self.point[0]) ** 2 + (y - self.point[1]) ** 2 <= POINT_RADIUS**2] = _POINT
        return frame

    def _obs(self) -> dict:
        obs = {IMAGE_KEY: self._draw(self.image_size)}
        if self.with_state:
            obs[STATE_KEY] = np.concatenate([self.point, self.goal]).astype(np.float32)
        return obs

    def render(self) -> np.ndarray:
        """A (render_size, render_size, 3) uint8 frame (for videos)."""
        return self._draw(self.render_size)

    def close(self) -> None:
        pass

    def dataset_meta(self) -> SimpleNamespace:
        """Dataset-style `features` and `stats` for building a policy without a dataset (RL)."""
        s = self.image_size
        features = {
            IMAGE_KEY: {"dtype": "video", "shape": [s, s, 3], "names": ["height", "width", "channels"]},
            "action": {"dtype": "float32", "shape": [2], "names": ["dx", "dy"]},
        }
        stats = {
            IMAGE_KEY: {"mean": np.full((3, 1, 1), 0.5), "std": np.full((3, 1, 1), 0.25)},
            "action": {"min": np.full(2, -1.0), "max": np.full(2, 1.0), "mean": np.zeros(2), "std": np.ones(2)},
        }
        if self.with_state:  # positions in the arena [-1, 1]^2; std of a uniform draw on it
            features[STATE_KEY] = {"dtype": "float32", "shape": [4], "names": ["x", "y", "goal_x", "goal_y"]}
            stats[STATE_KEY] = {
                "min": np.full(4, -1.0),
                "max": np.full(4, 1.0),
                "mean": np.zeros(4),
                "std": np.full(4, 0.55),
            }
        return SimpleNamespace(features=features, stats=stats, fps=FPS)
