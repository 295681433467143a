"""Teleoperator `scripted_metaworld`: Meta-World's own scripted policy of the current task
(`metaworld.policies`) driving the `sim_metaworld` robot, to record MT10 demonstrations.

    robot = MetaWorldRobot(MetaWorldRobotConfig(task="mt10", seed=0))
    teleop = ScriptedMetaWorld(ScriptedMetaWorldConfig(), robot=robot)

`robotlearn record --robot.type=sim_metaworld --teleop.type=scripted_metaworld` does this for you.
Each `get_action()` reads the robot's current task and 39-d state. Needs the `metaworld` extra.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from robotlearn.teleoperators.scripted import ScriptedTeleoperator
from robotlearn.teleoperators.teleoperator import TeleoperatorConfig


@dataclass
class ScriptedMetaWorldConfig(TeleoperatorConfig):
    """Meta-World's scripted policies (no options)."""

    type: str = "scripted_metaworld"
    """Registered teleoperator type."""


class ScriptedMetaWorld(ScriptedTeleoperator):
    """Teleoperator `scripted_metaworld`: the task's scripted policy driving a `sim_metaworld` robot."""

    config_class = ScriptedMetaWorldConfig
    name = "scripted_metaworld"
    robot_type = "sim_metaworld"

    def __init__(self, config: ScriptedMetaWorldConfig | None = None, robot=None):
        super().__init__(config or ScriptedMetaWorldConfig(), robot)

    @property
    def action_features(self) -> dict[str, Any]:
        from robotlearn.envs.meta_world import ACTION_NAMES

        return {name: float for name in ACTION_NAMES}

    def make_expert(self):
        """Meta-World's scripted policies, as one function (task name, state) -> action."""
        from robotlearn.envs.meta_world import scripted_action

        return scripted_action

    def reset(self) -> None:
        """Nothing to forget: Meta-World's scripted policies act on the current state alone."""

    def get_action(self) -> dict[str, Any]:
        """The scripted policy's action for the robot's current task and state."""
        from robotlearn.envs.meta_world import ACTION_NAMES

        env = self.robot_env()
        action = self.expert(env.task_name, env.state())
        return {name: float(v) for name, v in zip(ACTION_NAMES, action)}
