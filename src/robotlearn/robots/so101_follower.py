"""SO-101 follower arm (`--robot.type=so101_follower`); implementation in `so_follower.py`.

from robotlearn.robots.so101_follower import SO101Follower, SO101FollowerConfig
robot = SO101Follower(SO101FollowerConfig(port="/dev/ttyACM0", id="my_arm", cameras={...}))
"""

from dataclasses import dataclass

from robotlearn.robots.so_follower import SOFollower, SOFollowerConfig


@dataclass
class SO101FollowerConfig(SOFollowerConfig):
    """Options of the SO-101 follower (see MotorArmConfig)."""

    type: str = "so101_follower"
    """Registered robot type."""


class SO101Follower(SOFollower):
    """SO-101 follower arm."""

    config_class = SO101FollowerConfig
    name = "so101_follower"
