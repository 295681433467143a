"""Robots: real arms and simulators behind one small interface (`robot.Robot`).

    from robotlearn.robots import make_robot
    robot = make_robot("sim_pusht")                          # config options as keyword arguments
    robot = make_robot("so100_follower", port="/dev/ttyACM0", id="arm1",
                       cameras={"front": {"type": "opencv", "index_or_path": 0, "width": 640, "height": 480, "fps": 30}})

`--robot.type=NAME` on the command line looks NAME up in ROBOTS (module imported lazily).
"""

from __future__ import annotations

from typing import Any

from robotlearn.robots.robot import Robot, RobotAlreadyConnectedError, RobotConfig, RobotNotConnectedError

# type name -> module holding the Robot subclass (whose `name` is the type name).
ROBOTS: dict[str, str] = {
    "sim_pusht": "robotlearn.robots.sim_pusht",
    "sim_arm": "robotlearn.robots.sim_arm",
    "so100_follower": "robotlearn.robots.so100_follower",
    "so101_follower": "robotlearn.robots.so101_follower",
    "koch_follower": "robotlearn.robots.koch_follower",
}


def robot_class(type_name: str) -> type[Robot]:
    """The Robot subclass for `type_name`; UnknownTypeError lists the known types."""
    from robotlearn.utils.registry import find_class

    return find_class("robot", __name__, Robot, ROBOTS, type_name, " (hardware robots: pip install 'robotlearn[hardware]')")


def make_robot_config(type_name: str, **options: Any) -> RobotConfig:
    """The config of robot `type_name` from options (None values are ignored; `cameras` may be
    a dict of camera specs `{"name": {"type": "opencv", ...}}`)."""
    from robotlearn.utils.registry import build_config, config_class_of

    cls = robot_class(type_name)
    cfg_cls = config_class_of(cls, RobotConfig)
    if isinstance(options.get("cameras"), dict):
        from robotlearn.cameras import make_camera_config

        options["cameras"] = {
            name: spec if not isinstance(spec, dict) else make_camera_config(**spec)
            for name, spec in options["cameras"].items()
        }
    return build_config("robot", type_name, cfg_cls, options, "robot")


def make_robot(type_name: str, **options: Any) -> Robot:
    """Build (not connect) robot `type_name` with config options given as keyword arguments."""
    return robot_class(type_name)(make_robot_config(type_name, **options))


__all__ = [
    "ROBOTS",
    "Robot",
    "RobotAlreadyConnectedError",
    "RobotConfig",
    "RobotNotConnectedError",
    "make_robot",
    "make_robot_config",
    "robot_class",
]
