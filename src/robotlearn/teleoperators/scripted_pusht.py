"""Teleoperator `scripted_pusht`: the scripted PushT expert driving the `sim_pusht` robot, for demos and tests.

The expert is `robotlearn.envs.pusht_expert.PushTExpert` (`--teleop.expert=planner`, the default:
it commits to pushes it simulated) or `robotlearn.envs.pusht_feedback_expert.PushTFeedbackExpert`
(`--teleop.expert=feedback`: its target is a function of the current state only, easier to
imitate); see those modules for how they work. This class only wires the expert to the robot: each `get_action()` reads the simulator state of the robot it drives
and returns the expert's next target. The expert needs that robot:

    robot = PushTRobot(PushTRobotConfig())
    teleop = ScriptedPushT(ScriptedPushTConfig(), robot=robot)     # or teleop.attach(robot)

`robotlearn record --robot.type=sim_pusht --teleop.type=scripted_pusht` does this for you
(`make_teleoperator_from_config` passes the robot to teleoperators with `needs_robot = True`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from robotlearn.envs.pusht_expert import PushTExpert, PushTExpertConfig
from robotlearn.envs.pusht_feedback_expert import PUSHT_EXPERTS, PushTFeedbackExpert, make_pusht_expert
from robotlearn.errors import ConfigError
from robotlearn.teleoperators.scripted import ScriptedTeleoperator
from robotlearn.teleoperators.teleoperator import TeleoperatorConfig


@dataclass
class ScriptedPushTConfig(PushTExpertConfig, TeleoperatorConfig):
    """Options of the scripted PushT expert: the planner's (`PushTExpertConfig`, lengths in PushT pixels)."""

    type: str = "scripted_pusht"
    """Registered teleoperator type."""
    expert: str = "planner"
    """Which expert: planner (PushTExpert, commits to simulated pushes) or feedback (PushTFeedbackExpert,
    a function of the current state; it uses only max_target_distance, 0 meaning its default of 30 px)."""

    def __post_init__(self):
        if self.expert not in PUSHT_EXPERTS:
            raise ConfigError(f"--teleop.expert={self.expert!r} is unknown: choose one of {', '.join(PUSHT_EXPERTS)}")


class ScriptedPushT(ScriptedTeleoperator):
    """Teleoperator `scripted_pusht`: a scripted expert driving a `sim_pusht` robot. See the module docstring."""

    config_class = ScriptedPushTConfig
    name = "scripted_pusht"
    robot_type = "sim_pusht"

    def __init__(self, config: ScriptedPushTConfig | None = None, robot=None):
        super().__init__(config or ScriptedPushTConfig(), robot)
        self.expert: PushTExpert | PushTFeedbackExpert | None = None
        self._episode_seen: int | None = None

    @property
    def action_features(self) -> dict[str, Any]:
        return {"target_x": float, "target_y": float}

    def make_expert(self):
        return make_pusht_expert(self.config.expert, self.config)

    def reset(self) -> None:
        """Forget the current plan (called when the robot starts a new episode)."""
        if self.expert is not None:
            self.expert.reset()

    def get_action(self) -> dict[str, Any]:
        """The expert's next target for the robot's current simulator state."""
        env = self.robot_env()
        # A new episode of the robot (its reset_episode/reset_to_state) starts a new plan.
        if self.robot.episode_count != self._episode_seen:
            self._episode_seen = self.robot.episode_count
            self.expert.reset()
        x, y = self.expert.act_env(env)
        return {"target_x": float(x), "target_y": float(y)}
