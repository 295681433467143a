"""Teleoperator `scripted_lang_pusht`: the language PushT expert (`envs/lang_pusht_expert.py`)
driving the `sim_lang_pusht` robot, to record a demonstration of every task.

    robot = LangPushTRobot(LangPushTRobotConfig(seed=0))
    teleop = ScriptedLangPushT(ScriptedLangPushTConfig(), robot=robot)

`robotlearn record --robot.type=sim_lang_pusht --teleop.type=scripted_lang_pusht` does this for you
(`make_teleoperator_from_config` passes the robot to teleoperators with `needs_robot = True`).
The expert reads the simulator's state and the episode's task; it keeps no state between steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from robotlearn.errors import ConfigError, DeviceAlreadyConnectedError, DeviceNotConnectedError
from robotlearn.teleoperators.teleoperator import Teleoperator, TeleoperatorConfig


@dataclass
class ScriptedLangPushTConfig(TeleoperatorConfig):
    """The scripted language PushT expert (no options)."""

    type: str = "scripted_lang_pusht"
    """Registered teleoperator type."""


class ScriptedLangPushT(Teleoperator):
    """Teleoperator `scripted_lang_pusht`: LangPushTExpert driving a `sim_lang_pusht` robot."""

    config_class = ScriptedLangPushTConfig
    name = "scripted_lang_pusht"
    needs_robot = True  # make_teleoperator_from_config passes the robot it drives
    robot_type = "sim_lang_pusht"  # the robot it drives

    def __init__(self, config: ScriptedLangPushTConfig | None = None, robot=None):
        super().__init__(config or ScriptedLangPushTConfig())
        self.robot = robot
        self.expert = None

    def attach(self, robot) -> None:
        """Drive `robot` (a LangPushTRobot)."""
        self.robot = robot

    @property
    def action_features(self) -> dict[str, Any]:
        return {"target_x": float, "target_y": float}

    @property
    def is_connected(self) -> bool:
        return self.expert is not None

    def connect(self, calibrate: bool = True) -> None:
        """Build the expert. ConfigError if no robot is attached."""
        if self.expert is not None:
            raise DeviceAlreadyConnectedError("ScriptedLangPushT is already connected")
        if self.robot is None:
            raise ConfigError(
                "ScriptedLangPushT needs the sim_lang_pusht robot it drives: ScriptedLangPushT(config, robot=robot) "
                "or teleop.attach(robot)"
            )
        from robotlearn.envs.lang_pusht_expert import LangPushTExpert

        self.expert = LangPushTExpert()

    def reset(self) -> None:
        """Nothing to forget: the expert plans from the current state alone."""

    def get_action(self) -> dict[str, Any]:
        """The expert's next target for the robot's current simulator state and task."""
        if self.expert is None:
            raise DeviceNotConnectedError("ScriptedLangPushT is not connected: call teleop.connect() first")
        if getattr(self.robot, "env", None) is None:
            raise DeviceNotConnectedError("ScriptedLangPushT: the sim_lang_pusht robot is not connected")
        x, y = self.expert.act(self.robot.env)
        return {"target_x": float(x), "target_y": float(y)}

    def disconnect(self) -> None:
        if self.expert is None:
            raise DeviceNotConnectedError("ScriptedLangPushT is not connected")
        self.expert = None
