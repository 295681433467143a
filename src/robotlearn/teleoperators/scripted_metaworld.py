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

from robotlearn.errors import ConfigError, DeviceAlreadyConnectedError, DeviceNotConnectedError
from robotlearn.teleoperators.teleoperator import Teleoperator, TeleoperatorConfig


@dataclass
class ScriptedMetaWorldConfig(TeleoperatorConfig):
    """Meta-World's scripted policies (no options)."""

    type: str = "scripted_metaworld"
    """Registered teleoperator type."""


class ScriptedMetaWorld(Teleoperator):
    """Teleoperator `scripted_metaworld`: the task's scripted policy driving a `sim_metaworld` robot."""

    config_class = ScriptedMetaWorldConfig
    name = "scripted_metaworld"
    needs_robot = True
    robot_type = "sim_metaworld"  # the robot it drives

    def __init__(self, config: ScriptedMetaWorldConfig | None = None, robot=None):
        super().__init__(config or ScriptedMetaWorldConfig())
        self.robot = robot
        self._connected = False

    def attach(self, robot) -> None:
        """Drive `robot` (a MetaWorldRobot)."""
        self.robot = robot

    @property
    def action_features(self) -> dict[str, Any]:
        from robotlearn.envs.meta_world import ACTION_NAMES

        return {name: float for name in ACTION_NAMES}

    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self, calibrate: bool = True) -> None:
        """ConfigError if no robot is attached."""
        if self._connected:
            raise DeviceAlreadyConnectedError("ScriptedMetaWorld is already connected")
        if self.robot is None:
            raise ConfigError(
                "ScriptedMetaWorld needs the sim_metaworld robot it drives: ScriptedMetaWorld(config, robot=robot) "
                "or teleop.attach(robot)"
            )
        self._connected = True

    def reset(self) -> None:
        """Nothing to forget: Meta-World's scripted policies act on the current state alone."""

    def get_action(self) -> dict[str, Any]:
        """The scripted policy's action for the robot's current task and state."""
        from robotlearn.envs.meta_world import ACTION_NAMES, scripted_action

        if not self._connected:
            raise DeviceNotConnectedError("ScriptedMetaWorld is not connected: call teleop.connect() first")
        env = getattr(self.robot, "env", None)
        if env is None:
            raise DeviceNotConnectedError("ScriptedMetaWorld: the sim_metaworld robot is not connected")
        action = scripted_action(env.task_name, env.state())
        return {name: float(v) for name, v in zip(ACTION_NAMES, action)}

    def disconnect(self) -> None:
        if not self._connected:
            raise DeviceNotConnectedError("ScriptedMetaWorld is not connected")
        self._connected = False
