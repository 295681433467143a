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

from robotlearn.teleoperators.scripted import ScriptedTeleoperator
from robotlearn.teleoperators.teleoperator import TeleoperatorConfig


@dataclass
class ScriptedLangPushTConfig(TeleoperatorConfig):
    """The scripted language PushT expert (no options)."""

    type: str = "scripted_lang_pusht"
    """Registered teleoperator type."""


class ScriptedLangPushT(ScriptedTeleoperator):
    """Teleoperator `scripted_lang_pusht`: LangPushTExpert driving a `sim_lang_pusht` robot."""

    config_class = ScriptedLangPushTConfig
    name = "scripted_lang_pusht"
    robot_type = "sim_lang_pusht"

    def __init__(self, config: ScriptedLangPushTConfig | None = None, robot=None):
        super().__init__(config or ScriptedLangPushTConfig(), robot)

    @property
    def action_features(self) -> dict[str, Any]:
        return {"target_x": float, "target_y": float}

    def make_expert(self):
        from robotlearn.envs.lang_pusht_expert import LangPushTExpert

        return LangPushTExpert()

    def reset(self) -> None:
        """Nothing to forget: the expert plans from the current state alone."""

    def get_action(self) -> dict[str, Any]:
        """The expert's next target for the robot's current simulator state and task."""
        env = self.robot_env()  # first: it raises if not connected
        x, y = self.expert.act(env)
        return {"target_x": float(x), "target_y": float(y)}
