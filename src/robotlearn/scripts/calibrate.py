r"""`robotlearn calibrate`: calibrate a follower arm or a leader arm and write its calibration file.

    robotlearn calibrate --robot.type=so100_follower --robot.port=/dev/ttyACM0 --robot.id=follower
    robotlearn calibrate --teleop.type=so100_leader --teleop.port=/dev/ttyACM1 --teleop.id=leader

The terminal asks you to hold every joint mid-range (ENTER), then to move each joint through its
whole range (ENTER to stop). The file goes to
$ROBOTLEARN_CALIBRATION_DIR (default ~/.cache/robotlearn/calibration)/<robots|teleoperators>/<type>/<id>.json,
where `connect()` (and so `robotlearn record` / `teleoperate`) finds it. With both --robot.type and
--teleop.type, the robot is calibrated first, then the teleoperator.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from robotlearn.configs import parse_config
from robotlearn.errors import ConfigError
from robotlearn.robots import RobotConfig, make_robot_from_config
from robotlearn.robots.calibrate import calibrate_device
from robotlearn.teleoperators import TeleoperatorConfig, make_teleoperator_from_config


@dataclass
class CalibrateConfig:
    """`robotlearn calibrate`: which arm to calibrate (give --robot.type, --teleop.type or both)."""

    robot: RobotConfig | None = None
    teleop: TeleoperatorConfig | None = None


CONFIG = CalibrateConfig


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    args = parse_config(CalibrateConfig, argv, prog="robotlearn calibrate", description=__doc__)
    if args.robot is None and args.teleop is None:
        raise ConfigError(
            "give the arm to calibrate: --robot.type=NAME --robot.port=PORT --robot.id=ID "
            "(or --teleop.type=... for a leader arm); e.g. --robot.type=so100_follower"
        )
    if args.robot is not None:
        calibrate_device(make_robot_from_config(args.robot))
    if args.teleop is not None:
        calibrate_device(make_teleoperator_from_config(args.teleop))
    return 0
