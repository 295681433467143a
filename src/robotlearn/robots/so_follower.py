"""SO-100 / SO-101 follower arm: six Feetech STS3215 servos on one bus (IDs 1-6), plus cameras.

The two arms differ in their printed parts, not in their electronics, so they share this class;
`so100_follower.py` and `so101_follower.py` only give them their own type names (and thus their
own calibration directories).
"""

from __future__ import annotations

from dataclasses import dataclass

from robotlearn.motors.feetech import FeetechMotorsBus
from robotlearn.robots.motor_arm import MotorArmConfig, MotorArmFollower

SO_MOTORS = {
    "shoulder_pan": (1, "sts3215"),
    "shoulder_lift": (2, "sts3215"),
    "elbow_flex": (3, "sts3215"),
    "wrist_flex": (4, "sts3215"),
    "wrist_roll": (5, "sts3215"),
    "gripper": (6, "sts3215"),
}


@dataclass
class SOFollowerConfig(MotorArmConfig):
    """Options of an SO-100/SO-101 follower (see MotorArmConfig)."""


class SOFollower(MotorArmFollower):
    """SO-100/SO-101 follower. Use `SO100Follower` / `SO101Follower`."""

    config_class = SOFollowerConfig
    name = "so_follower"
    bus_class = FeetechMotorsBus
    motor_specs = SO_MOTORS
    full_turn_motors = ("wrist_roll",)

    def prepare_for_calibration(self) -> None:
        for m in self.bus.motors:
            self.bus.write("Operating_Mode", m, 0)  # position mode

    def configure(self) -> None:
        bus = self.bus
        bus.disable_torque()
        for m in bus.motors:
            bus.write("Return_Delay_Time", m, 0)  # answer at once (default 500 us) for a faster loop
            bus.write("Maximum_Acceleration", m, 254)
            bus.write("Acceleration", m, 254)
            bus.write("Operating_Mode", m, 0)
            # Lower P than the factory 32 avoids shakiness; D damps the motion.
            bus.write("P_Coefficient", m, 16)
            bus.write("I_Coefficient", m, 0)
            bus.write("D_Coefficient", m, 32)
        # The gripper often grasps hard objects: cap torque and current so it does not overheat.
        bus.write("Max_Torque_Limit", "gripper", 500)
        bus.write("Protection_Current", "gripper", 250)
        bus.write("Overload_Torque", "gripper", 25)
        self.hold_present_pose()
        bus.enable_torque()
