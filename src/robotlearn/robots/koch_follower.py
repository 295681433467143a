"""Koch v1.1 follower arm (`--robot.type=koch_follower`): Dynamixel XL430 + XL330 servos, Protocol 2.0.

from robotlearn.robots.koch_follower import KochFollower, KochFollowerConfig
robot = KochFollower(KochFollowerConfig(port="/dev/ttyACM0", id="my_koch"))
"""

from __future__ import annotations

from dataclasses import dataclass

from robotlearn.motors.dynamixel import DynamixelMotorsBus
from robotlearn.robots.motor_arm import MotorArmConfig, MotorArmFollower

KOCH_FOLLOWER_MOTORS = {
    "shoulder_pan": (1, "xl430-w250"),
    "shoulder_lift": (2, "xl430-w250"),
    "elbow_flex": (3, "xl330-m288"),
    "wrist_flex": (4, "xl330-m288"),
    "wrist_roll": (5, "xl330-m288"),
    "gripper": (6, "xl330-m288"),
}


@dataclass
class KochFollowerConfig(MotorArmConfig):
    """Options of the Koch follower (see MotorArmConfig)."""

    type: str = "koch_follower"
    """Registered robot type."""


class KochFollower(MotorArmFollower):
    """Koch v1.1 follower arm."""

    config_class = KochFollowerConfig
    name = "koch_follower"
    bus_class = DynamixelMotorsBus
    motor_specs = KOCH_FOLLOWER_MOTORS
    full_turn_motors = ("shoulder_pan", "wrist_roll")

    def prepare_for_calibration(self) -> None:
        # Extended position mode reads past one turn, so a joint never wraps from 4095 to 0.
        self.bus.set_operating_mode("extended_position")

    def configure(self) -> None:
        bus = self.bus
        bus.disable_torque()  # EEPROM registers (operating mode) need torque off
        arm = [m for m in bus.motors if m != "gripper"]
        bus.set_operating_mode("extended_position", arm)
        # Current-based position control lets the gripper squeeze an object without overloading.
        bus.set_operating_mode("current_position", "gripper")
        # The elbow carries the forearm: stiffer gains than the defaults keep it from sagging.
        bus.write("Position_P_Gain", "elbow_flex", 1500)
        bus.write("Position_I_Gain", "elbow_flex", 0)
        bus.write("Position_D_Gain", "elbow_flex", 600)
        self.hold_present_pose()
        bus.enable_torque()
