"""Koch v1.1 leader arm (`--teleop.type=koch_leader`): six Dynamixel XL330-M077, moved by hand.

The gripper joint is a trigger: it runs in current-based position mode with torque on, holding a
half-open set point that the operator squeezes against, and springs back when released.
"""

from __future__ import annotations

from dataclasses import dataclass

from robotlearn.motors.dynamixel import DynamixelMotorsBus
from robotlearn.teleoperators.motor_arm_leader import MotorArmLeader, MotorArmLeaderConfig

KOCH_LEADER_MOTORS = {
    name: (i, "xl330-m077")
    for i, name in enumerate(
        ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"], start=1
    )
}


@dataclass
class KochLeaderConfig(MotorArmLeaderConfig):
    """Options of the Koch leader (see MotorArmLeaderConfig)."""

    type: str = "koch_leader"
    """Registered teleoperator type."""
    gripper_open_pos: float = 50.0
    """Rest position of the gripper trigger, 0..100 of its calibrated range."""


class KochLeader(MotorArmLeader):
    """Koch v1.1 leader arm."""

    config_class = KochLeaderConfig
    name = "koch_leader"
    bus_class = DynamixelMotorsBus
    motor_specs = KOCH_LEADER_MOTORS
    full_turn_motors = ("shoulder_pan", "wrist_roll")

    def prepare_for_calibration(self) -> None:
        self.bus.set_operating_mode("extended_position")

    def configure(self) -> None:
        bus = self.bus
        bus.disable_torque()
        # Extended position: joints that can pass a full turn never wrap from 4095 to 0.
        bus.set_operating_mode("extended_position", [m for m in bus.motors if m != "gripper"])
        bus.set_operating_mode("current_position", "gripper")
        if bus.calibration is not None:
            bus.enable_torque("gripper")
            bus.write("Goal_Position", "gripper", self.config.gripper_open_pos)
