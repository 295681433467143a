"""Teleoperators: leader arms, the keyboard and scripted experts, behind `teleoperator.Teleoperator`.

    from robotlearn.teleoperators import make_teleoperator
    teleop = make_teleoperator("scripted_pusht", robot=robot)     # scripted experts read the sim they drive
    teleop = make_teleoperator("so100_leader", port="/dev/ttyACM1", id="leader1")

Teleoperator classes with `needs_robot = True` (scripted experts) get the robot passed to them.
"""

from __future__ import annotations

from typing import Any

from robotlearn.teleoperators.teleoperator import Teleoperator, TeleoperatorConfig

# type name -> module holding the Teleoperator subclass (whose `name` is the type name).
TELEOPERATORS: dict[str, str] = {
    "scripted_pusht": "robotlearn.teleoperators.scripted_pusht",
    "keyboard": "robotlearn.teleoperators.keyboard",
    "sim_arm_leader": "robotlearn.teleoperators.sim_arm_leader",
    "so100_leader": "robotlearn.teleoperators.so100_leader",
    "so101_leader": "robotlearn.teleoperators.so101_leader",
    "koch_leader": "robotlearn.teleoperators.koch_leader",
}


def teleoperator_class(type_name: str) -> type[Teleoperator]:
    """The Teleoperator subclass for `type_name`; UnknownTypeError lists the known types."""
    from robotlearn.utils.registry import find_class

    return find_class(
        "teleoperator", __name__, Teleoperator, TELEOPERATORS, type_name,
        " (leader arms: pip install 'robotlearn[hardware]')",
    )


def make_teleoperator(type_name: str, robot=None, **options: Any) -> Teleoperator:
    """Build (not connect) teleoperator `type_name`; `robot` is passed to those that need it."""
    from robotlearn.utils.registry import build_config, config_class_of

    cls = teleoperator_class(type_name)
    config = build_config("teleoperator", type_name, config_class_of(cls, TeleoperatorConfig), options, "teleop")
    if getattr(cls, "needs_robot", False):
        return cls(config, robot=robot)
    return cls(config)


__all__ = ["TELEOPERATORS", "Teleoperator", "TeleoperatorConfig", "make_teleoperator", "teleoperator_class"]
