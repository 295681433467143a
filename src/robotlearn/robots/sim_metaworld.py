"""Robot `sim_metaworld`: Meta-World's Sawyer arm (`envs/meta_world.py`, state only) behind the
`Robot` interface, so `robotlearn record` writes MT10 demonstrations with each task's instruction.

    robotlearn record --robot.type=sim_metaworld --robot.task=mt10 --teleop.type=scripted_metaworld \\
        --dataset.root=data/mt10 --dataset.num_episodes=100 --dataset.fps=80 \\
        --dataset.episode_time_s=6.25 --dataset.reset_time_s=0 --dataset.realtime=false

Episode i records task `tasks[i % len(tasks)]` (with `cycle_tasks`), in a variation drawn from the
seed. Each `send_action` is one Meta-World control step (12.5 ms, so record at --dataset.fps=80;
500 steps = 6.25 s is Meta-World's episode limit).

    observation_features = {"hand_x": float, ..., "goal_z": float}   # the 39 state values (envs.meta_world.STATE_NAMES)
    action_features      = {"dx": float, "dy": float, "dz": float, "grip": float}   # each in [-1, 1]

Needs the `metaworld` extra: `pip install 'robotlearn[metaworld]'`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from robotlearn.errors import ConfigError, DeviceAlreadyConnectedError, DeviceNotConnectedError
from robotlearn.robots.robot import RobotConfig
from robotlearn.robots.sim_robot import SimRobot


@dataclass
class MetaWorldRobotConfig(RobotConfig):
    """Options of the simulated Meta-World robot."""

    type: str = "sim_metaworld"
    """Registered robot type."""
    task: str = "mt10"
    """Tasks to record: mt10, one task (drawer-open-v3) or a comma-separated list."""
    cycle_tasks: bool = True
    """Episode i records task i mod (number of tasks); false: each episode draws its task from the seed."""
    seed: int | None = None
    """Seed of the first episode's variation (None: random); later episodes continue its stream."""

    def __post_init__(self):
        from robotlearn.envs.meta_world import parse_tasks

        try:
            parse_tasks(self.task)
        except ValueError as e:
            raise ConfigError(f"--robot.task: {e}") from None


class MetaWorldRobot(SimRobot):
    """Meta-World as a robot: `connect()` builds the env, `reset_episode()` starts the next task's
    episode, `episode_task()` is its instruction; `last_info` holds reward and is_success."""

    config_class = MetaWorldRobotConfig
    name = "sim_metaworld"
    names_episode_tasks = True

    def __init__(self, config: MetaWorldRobotConfig | None = None):
        super().__init__(config or MetaWorldRobotConfig())
        self.env = None
        self.episode_count = 0
        self._fresh = False
        self._seeded = False

    @property
    def observation_features(self) -> dict[str, Any]:
        from robotlearn.envs.meta_world import STATE_NAMES

        return {name: float for name in STATE_NAMES}

    @property
    def action_features(self) -> dict[str, Any]:
        from robotlearn.envs.meta_world import ACTION_NAMES

        return {name: float for name in ACTION_NAMES}

    @property
    def is_connected(self) -> bool:
        return self.env is not None

    def connect(self, calibrate: bool = True) -> None:
        if self.env is not None:
            raise DeviceAlreadyConnectedError("MetaWorldRobot is already connected")
        from robotlearn.envs.meta_world import MetaWorldEnv

        self.env = MetaWorldEnv(task=self.config.task, max_steps=None)
        self.episode_count = 0
        self._seeded = False
        self._new_episode()

    def _require(self):
        if self.env is None:
            raise DeviceNotConnectedError("MetaWorldRobot is not connected: call robot.connect() first")
        return self.env

    def _new_episode(self) -> None:
        env = self.env
        seed = None if self._seeded else self.config.seed
        self._seeded = True
        options = {"task": env.tasks[self.episode_count % len(env.tasks)]} if self.config.cycle_tasks else None
        env.reset(seed=seed, options=options)
        self._fresh = True
        self.last_info = {"reward": 0.0, "is_success": False}
        self.episode_count += 1

    def reset_episode(self) -> None:
        """The next episode (the next task with `cycle_tasks`); no-op if no action was sent since the last reset."""
        self._require()
        if not self._fresh:
            self._new_episode()

    def episode_task(self) -> str:
        """The current episode's instruction, e.g. "open the drawer"."""
        return self._require().instruction

    def get_observation(self) -> dict[str, Any]:
        from robotlearn.envs.meta_world import STATE_NAMES

        state = self._require().state()
        return {name: float(v) for name, v in zip(STATE_NAMES, state)}

    def send_action(self, action: dict[str, Any]) -> dict[str, Any]:
        """One control step with (dx, dy, dz, grip) clipped to [-1, 1]; returns the float32 action applied."""
        from robotlearn.envs.meta_world import ACTION_NAMES

        env = self._require()
        try:
            values = np.array([action[name] for name in ACTION_NAMES], dtype=np.float64)
        except KeyError as e:
            raise KeyError(f"MetaWorldRobot.send_action: missing action {e}; expected {ACTION_NAMES}") from None
        values = np.clip(values, -1.0, 1.0).astype(np.float32)  # stored exactly as applied
        _, reward, _, _, info = env.step(values)
        self._fresh = False
        self.last_info = {"reward": reward, "is_success": info["is_success"]}
        return {name: float(v) for name, v in zip(ACTION_NAMES, values)}

    def disconnect(self) -> None:
        self._require().close()
        self.env = None
