"""Drive a robot with a teleoperator at a fixed rate, without recording
(`robotlearn teleoperate` is `teleoperate(parse_config(TeleoperateConfig, argv))`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from robotlearn.errors import ConfigError
from robotlearn.recording.session import REMOVED_DEVICE_FLAGS
from robotlearn.robots import RobotConfig, make_robot_from_config
from robotlearn.robots.sim_pusht import PushTRobotConfig
from robotlearn.teleoperators import TeleoperatorConfig, make_teleoperator_from_config


@dataclass
class TeleoperateConfig:
    """`robotlearn teleoperate`: drive a robot without recording."""

    __removed_flags__ = REMOVED_DEVICE_FLAGS

    robot: RobotConfig = field(default_factory=PushTRobotConfig)
    teleop: TeleoperatorConfig | None = None
    fps: int = 30
    """Control rate, Hz."""
    duration_s: float | None = None
    """Stop after this many seconds (default: until escape/q or Ctrl-C)."""
    display_data: bool = False
    """Show cameras and joint values live in rerun (extra 'viz')."""
    realtime: bool = True
    """Run at --fps in wall-clock time (false: as fast as possible, simulated robots only)."""


def teleoperate(args: TeleoperateConfig):
    """Runs the loop; returns its LoopStats (None when interrupted with Ctrl-C).

    Raises ConfigError when no teleoperator is given."""
    from robotlearn.recording import init_keyboard_listener, init_rerun, record_loop

    if args.teleop is None:
        raise ConfigError("--teleop.type is required (e.g. keyboard, scripted_pusht, so100_leader)")
    robot = make_robot_from_config(args.robot)
    teleop = make_teleoperator_from_config(args.teleop, robot=robot)
    listener, events = init_keyboard_listener(use_arrows=(args.teleop.type != "keyboard"))
    if args.display_data:
        init_rerun(session_name="teleoperate")
    robot.connect()
    try:
        teleop.connect()
        stats = record_loop(
            robot,
            events,
            fps=args.fps,
            teleop=teleop,
            control_time_s=args.duration_s,
            display_data=args.display_data,
            realtime=args.realtime,
        )
    except KeyboardInterrupt:
        stats = None
    finally:
        listener.stop()
        if teleop.is_connected:
            teleop.disconnect()
        robot.disconnect()
    return stats
