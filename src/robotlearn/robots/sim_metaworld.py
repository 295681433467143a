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

from robotlearn.errors import ConfigError
from robotlearn.robots.robot import RobotConfig
from robotlearn.robots.sim_robot import MultiTaskSimRobot


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


class MetaWorldRobot(MultiTaskSimRobot):
    """Meta-World as a robot: `connect()` builds the env, `reset_episode()` starts the next task's
    episode, `episode_task()` is its instruction; `last_info` holds reward and is_success."""

    config_class = MetaWorldRobotConfig
    name = "sim_metaworld"

    def __init__(self, config: MetaWorldRobotConfig | None = None):
        super().__init__(config or MetaWorldRobotConfig())

    @property
    def observation_features(self) -> dict[str, Any]:
        from robotlearn.envs.meta_world import STATE_NAMES

        return {name: float for name in STATE_NAMES}

    @property
    def action_features(self) -> dict[str, Any]:
        from robotlearn.envs.meta_world import ACTION_NAMES

        return {name: float for name in ACTION_NAMES}

    def make_env(self):
        from robotlearn.envs.meta_world import MetaWorldEnv

        return MetaWorldEnv(task=self.config.task, max_steps=None)

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
        obs, reward, _, _, info = env.step(values)
        self._stepped(obs, reward, info)
        return {name: float(v) for name, v in zip(ACTION_NAMES, values)}
