"""SO-101 leader arm (`--teleop.type=so101_leader`); implementation in `so_leader.py`.

from robotlearn.teleoperators.so101_leader import SO101Leader, SO101LeaderConfig
teleop = SO101Leader(SO101LeaderConfig(port="/dev/ttyACM1", id="my_leader"))
"""

from dataclasses import dataclass

from robotlearn.teleoperators.so_leader import SOLeader, SOLeaderConfig


@dataclass
class SO101LeaderConfig(SOLeaderConfig):
    """Options of the SO-101 leader (see MotorArmLeaderConfig)."""

    type: str = "so101_leader"
    """Registered teleoperator type."""


class SO101Leader(SOLeader):
    """SO-101 leader arm."""

    config_class = SO101LeaderConfig
    name = "so101_leader"
