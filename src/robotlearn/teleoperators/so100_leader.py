"""SO-100 leader arm (`--teleop.type=so100_leader`); implementation in `so_leader.py`.

from robotlearn.teleoperators.so100_leader import SO100Leader, SO100LeaderConfig
teleop = SO100Leader(SO100LeaderConfig(port="/dev/ttyACM1", id="my_leader"))
"""

from dataclasses import dataclass

from robotlearn.teleoperators.so_leader import SOLeader, SOLeaderConfig


@dataclass
class SO100LeaderConfig(SOLeaderConfig):
    """Options of the SO-100 leader (see MotorArmLeaderConfig)."""

    type: str = "so100_leader"
    """Registered teleoperator type."""


class SO100Leader(SOLeader):
    """SO-100 leader arm."""

    config_class = SO100LeaderConfig
    name = "so100_leader"
