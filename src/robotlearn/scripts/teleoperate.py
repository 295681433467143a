r"""`robotlearn teleoperate`: drive a robot with a teleoperator at a fixed rate, without recording.

    robotlearn teleoperate --robot.type=sim_pusht --teleop.type=keyboard --fps=10
    robotlearn teleoperate --robot.type=so100_follower --robot.port=/dev/ttyACM0 --robot.id=follower \
        --teleop.type=so100_leader --teleop.port=/dev/ttyACM1 --teleop.id=leader --duration_s=60

Stops after --duration_s, or on escape / q in the terminal (or Ctrl-C). Prints the loop's timing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from robotlearn.configs import parse_config
from robotlearn.scripts.robot_args import RobotArgs, TeleopArgs


@dataclass
class TeleoperateArgs:
    robot: RobotArgs = field(default_factory=RobotArgs)
    teleop: TeleopArgs = field(default_factory=TeleopArgs)
    fps: int = field(default=30, metadata={"help": "Control rate (Hz)."})
    duration_s: float | None = field(default=None, metadata={"help": "Stop after this many seconds (default: until escape/q or Ctrl-C)."})
    display_data: bool = field(default=False, metadata={"help": "Show cameras and joint values live in rerun (extra 'viz')."})
    realtime: bool = field(default=True, metadata={"help": "Run at --fps in wall-clock time (false: as fast as possible, simulated robots only)."})


def teleoperate(args: TeleoperateArgs):
    """Run the loop; returns its LoopStats."""
    from robotlearn.recording import init_keyboard_listener, init_rerun, record_loop

    if not args.teleop.type:
        raise SystemExit("--teleop.type is required (e.g. keyboard, scripted_pusht, so100_leader)")
    robot = args.robot.make()
    teleop = args.teleop.make(robot)
    listener, events = init_keyboard_listener(use_arrows=(args.teleop.type != "keyboard"))
    if args.display_data:
        init_rerun(session_name="teleoperate")
    robot.connect()
    try:
        teleop.connect()
        stats = record_loop(robot, events, fps=args.fps, teleop=teleop, control_time_s=args.duration_s,
                            display_data=args.display_data, realtime=args.realtime)
    except KeyboardInterrupt:
        stats = None
    finally:
        listener.stop()
        if teleop.is_connected:
            teleop.disconnect()
        robot.disconnect()
    if stats is not None:
        print(f"teleoperate: {stats.summary()}")
    return stats


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    teleoperate(parse_config(TeleoperateArgs, argv, prog="robotlearn teleoperate", description=__doc__))
    return 0
