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
from robotlearn.errors import ConfigError, DeviceAlreadyConnectedError, DeviceNotConnectedError
from robotlearn.teleoperators.teleoperator import Teleoperator, TeleoperatorConfig


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


class ScriptedPushT(Teleoperator):
    """Teleoperator `scripted_pusht`: a scripted expert driving a `sim_pusht` robot. See the module docstring."""

    config_class = ScriptedPushTConfig
    name = "scripted_pusht"
    needs_robot = True  # make_teleoperator_from_config passes the robot it drives

    def __init__(self, config: ScriptedPushTConfig | None = None, robot=None):
        super().__init__(config or ScriptedPushTConfig())
        self.robot = robot
        self.expert: PushTExpert | PushTFeedbackExpert | None = None
        self._episode_seen: int | None = None

    def attach(self, robot) -> None:
        """Drive `robot` (a connected or not-yet-connected PushTRobot)."""
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
            raise DeviceAlreadyConnectedError("ScriptedPushT is already connected")
        if self.robot is None:
            raise ConfigError(
                "ScriptedPushT needs the sim_pusht robot it drives: ScriptedPushT(config, robot=robot) "
                "or teleop.attach(robot)"
            )
        self.expert = make_pusht_expert(self.config.expert, self.config)

    def reset(self) -> None:
        """Forget the current plan (called when the robot starts a new episode)."""
        if self.expert is not None:
            self.expert.reset()

    def get_action(self) -> dict[str, Any]:
        """The expert's next target for the robot's current simulator state."""
        if self.expert is None:
            raise DeviceNotConnectedError("ScriptedPushT is not connected: call teleop.connect() first")
        # A new episode of the robot (its reset_episode/reset_to_state) starts a new plan.
        if self.robot.episode_count != self._episode_seen:
            self._episode_seen = self.robot.episode_count
            self.expert.reset()
        x, y = self.expert.act_env(self.robot.env)
        return {"target_x": float(x), "target_y": float(y)}

    def disconnect(self) -> None:
        if self.expert is None:
            raise DeviceNotConnectedError("ScriptedPushT is not connected")
        self.expert = None
