"""Teleoperators: leader arms, the keyboard and scripted experts, behind `teleoperator.Teleoperator`.

    from robotlearn.teleoperators import TELEOPERATORS, make_teleoperator, make_teleoperator_from_config
    teleop = make_teleoperator("scripted_pusht", robot=robot)     # scripted experts read the sim they drive
    teleop = make_teleoperator_from_config(SO100LeaderConfig(port="/dev/ttyACM1", id="leader1"))

`--teleop.type=NAME` looks NAME up in TELEOPERATORS (its module is imported only then).
Teleoperator classes with `needs_robot = True` (scripted experts) get the robot passed to them.
Adding a teleoperator: one file plus one line below, or an entry point in the group
`robotlearn.teleoperators`; check it with `robotlearn.teleoperators.check.check_teleoperator`.
"""

from __future__ import annotations

from typing import Any

from robotlearn.teleoperators.teleoperator import Teleoperator, TeleoperatorConfig
from robotlearn.utils.registry import Registry

TELEOPERATORS = Registry(
    "teleoperator",
    {
        "scripted_pusht": "robotlearn.teleoperators.scripted_pusht:ScriptedPushT",
        "scripted_lang_pusht": "robotlearn.teleoperators.scripted_lang_pusht:ScriptedLangPushT",
        "scripted_metaworld": "robotlearn.teleoperators.scripted_metaworld:ScriptedMetaWorld",
        "keyboard": "robotlearn.teleoperators.keyboard:KeyboardTeleop",
        "sim_arm_leader": "robotlearn.teleoperators.sim_arm_leader:SimArmLeader",
        "so100_leader": "robotlearn.teleoperators.so100_leader:SO100Leader",
        "so101_leader": "robotlearn.teleoperators.so101_leader:SO101Leader",
        "koch_leader": "robotlearn.teleoperators.koch_leader:KochLeader",
    },
    entry_point_group="robotlearn.teleoperators",
    extras={
        "scripted_metaworld": "metaworld",
        "so100_leader": "hardware",
        "so101_leader": "hardware",
        "koch_leader": "hardware",
    },
)


def make_teleoperator_from_config(config: TeleoperatorConfig, robot=None) -> Teleoperator:
    """Build (not connect) the teleoperator `config` configures; `robot` is passed to those
    that need it (`needs_robot = True`, e.g. scripted experts reading the simulator)."""
    cls = TELEOPERATORS.get(config.type, "--teleop.type")
    return cls(config, robot=robot) if cls.needs_robot else cls(config)


def make_teleoperator_config(type_name: str, **options: Any) -> TeleoperatorConfig:
    """The config of teleoperator `type_name` from its options (None values keep the defaults).
    UnknownTypeError for an unknown type, ConfigError naming an unknown option."""
    from robotlearn.configs import config_from_dict

    return config_from_dict(TeleoperatorConfig, {"type": type_name, **options}, where="teleop")


def make_teleoperator(type_name: str, robot=None, **options: Any) -> Teleoperator:
    """Build (not connect) teleoperator `type_name` with config options as keyword arguments;
    `robot` is passed to those that need it."""
    return make_teleoperator_from_config(make_teleoperator_config(type_name, **options), robot=robot)


__all__ = [
    "TELEOPERATORS",
    "Teleoperator",
    "TeleoperatorConfig",
    "make_teleoperator",
    "make_teleoperator_config",
    "make_teleoperator_from_config",
]
