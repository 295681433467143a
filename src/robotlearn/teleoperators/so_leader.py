"""SO-100 / SO-101 leader arm: the same six STS3215 servos as the follower, moved by hand.

`so100_leader.py` and `so101_leader.py` give the two versions their type names.
"""

from __future__ import annotations

from dataclasses import dataclass

from robotlearn.motors.feetech import FeetechMotorsBus
from robotlearn.robots.so_follower import SO_MOTORS
from robotlearn.teleoperators.motor_arm_leader import MotorArmLeader, MotorArmLeaderConfig


@dataclass
class SOLeaderConfig(MotorArmLeaderConfig):
    """Options of an SO-100/SO-101 leader (see MotorArmLeaderConfig)."""


class SOLeader(MotorArmLeader):
    """SO-100/SO-101 leader. Use `SO100Leader` / `SO101Leader`."""

    config_class = SOLeaderConfig
    name = "so_leader"
    bus_class = FeetechMotorsBus
    motor_specs = SO_MOTORS
    full_turn_motors = ("wrist_roll",)

    def prepare_for_calibration(self) -> None:
        for m in self.bus.motors:
            self.bus.write("Operating_Mode", m, 0)

    def configure(self) -> None:
        self.bus.disable_torque()
        for m in self.bus.motors:
            self.bus.write("Operating_Mode", m, 0)
