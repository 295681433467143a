"""Robots: real arms and simulators behind one small interface (`robot.Robot`; simulators `SimRobot`).

    from robotlearn.robots import ROBOTS, make_robot, make_robot_from_config
    robot = make_robot_from_config(ROBOTS.config_class("sim_pusht")(seed=0))
    robot = make_robot("so100_follower", port="/dev/ttyACM0", id="arm1",
                       cameras={"front": {"type": "opencv", "index_or_path": 0, "width": 640, "height": 480, "fps": 30}})

`--robot.type=NAME` on the command line looks NAME up in ROBOTS (its module is imported only
then). Adding a robot: one file with the class and its config, plus one line below, or, from
another package, an entry point in the group `robotlearn.robots`. Check it with
`robotlearn.robots.check.check_robot`.
"""

from __future__ import annotations

from typing import Any

from robotlearn.robots.robot import Robot, RobotAlreadyConnectedError, RobotConfig, RobotNotConnectedError
from robotlearn.robots.sim_robot import SimRobot
from robotlearn.utils.registry import Registry

ROBOTS = Registry(
    "robot",
    {
        "sim_pusht": "robotlearn.robots.sim_pusht:PushTRobot",
        "sim_lang_pusht": "robotlearn.robots.sim_lang_pusht:LangPushTRobot",
        "sim_metaworld": "robotlearn.robots.sim_metaworld:MetaWorldRobot",
        "sim_arm": "robotlearn.robots.sim_arm:SimArm",
        "so100_follower": "robotlearn.robots.so100_follower:SO100Follower",
        "so101_follower": "robotlearn.robots.so101_follower:SO101Follower",
        "koch_follower": "robotlearn.robots.koch_follower:KochFollower",
    },
    entry_point_group="robotlearn.robots",
    extras={
        "sim_metaworld": "metaworld",
        "so100_follower": "hardware",
        "so101_follower": "hardware",
        "koch_follower": "hardware",
    },
)


def make_robot_from_config(config: RobotConfig) -> Robot:
    """Build (not connect) the robot `config` configures: `ROBOTS.get(config.type)(config)`."""
    return ROBOTS.get(config.type, "--robot.type")(config)


def make_robot_config(type_name: str, **options: Any) -> RobotConfig:
    """The config of robot `type_name` from its options as keyword arguments.

    `cameras` may be a dict of camera specs
    `{"name": {"type": "opencv", ...}}`. Raises UnknownTypeError (with the closest name) for an
    unknown type and ConfigError naming an option the config does not have, with the valid ones.
    """
    from robotlearn.configs import config_from_dict

    return config_from_dict(RobotConfig, {"type": type_name, **options}, where="robot")


def make_robot(type_name: str, **options: Any) -> Robot:
    """Build (not connect) robot `type_name` with config options given as keyword arguments
    (see `make_robot_config`)."""
    return make_robot_from_config(make_robot_config(type_name, **options))


__all__ = [
    "ROBOTS",
    "Robot",
    "RobotAlreadyConnectedError",
    "RobotConfig",
    "RobotNotConnectedError",
    "SimRobot",
    "make_robot",
    "make_robot_config",
    "make_robot_from_config",
]
