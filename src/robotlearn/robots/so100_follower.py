"""SO-100 follower arm (`--robot.type=so100_follower`); implementation in `so_follower.py`.

from robotlearn.robots.so100_follower import SO100Follower, SO100FollowerConfig
robot = SO100Follower(SO100FollowerConfig(port="/dev/ttyACM0", id="my_arm", cameras={...}))
"""

from dataclasses import dataclass

from robotlearn.robots.so_follower import SOFollower, SOFollowerConfig


@dataclass
class SO100FollowerConfig(SOFollowerConfig):
    """Options of the SO-100 follower (see MotorArmConfig)."""

    type: str = "so100_follower"
    """Registered robot type."""


class SO100Follower(SOFollower):
    """SO-100 follower arm."""

    config_class = SO100FollowerConfig
    name = "so100_follower"
