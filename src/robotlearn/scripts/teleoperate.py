r"""`robotlearn teleoperate`: drive a robot with a teleoperator at a fixed rate, without recording.

    robotlearn teleoperate --robot.type=sim_pusht --teleop.type=keyboard --fps=10
    robotlearn teleoperate --robot.type=so100_follower --robot.port=/dev/ttyACM0 --robot.id=follower \
        --teleop.type=so100_leader --teleop.port=/dev/ttyACM1 --teleop.id=leader --duration_s=60

Stops after --duration_s, or on escape / q in the terminal (or Ctrl-C). Prints the loop's timing.
"""

from __future__ import annotations

import logging

from robotlearn.configs import parse_config
from robotlearn.recording.teleoperate import TeleoperateConfig, teleoperate

CONFIG = TeleoperateConfig


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    stats = teleoperate(parse_config(TeleoperateConfig, argv, prog="robotlearn teleoperate", description=__doc__))
    if stats is not None:
        print(f"teleoperate: {stats.summary()}")
    return 0
