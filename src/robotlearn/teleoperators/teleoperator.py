"""The `Teleoperator` interface: a device (leader arm, keyboard, scripted expert) producing actions.

A new teleoperator is one class implementing these methods plus a config dataclass deriving from
`TeleoperatorConfig` (redeclaring `type: str = "<its name>"`), registered by name in
`robotlearn.teleoperators.TELEOPERATORS` (one line, or an entry point in the group
`robotlearn.teleoperators`). `robotlearn.teleoperators.check.check_teleoperator(teleop)` says
whether it keeps the contract. Errors are the devices' (`robotlearn.errors`):
`DeviceNotConnectedError` before `connect()`, `DeviceAlreadyConnectedError` on a second one.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any


@dataclass
class TeleoperatorConfig:
    """Base config of every teleoperator. `type` selects the config class through
    `TELEOPERATORS` (see `__registry__`); each concrete config redeclares it with its name."""

    __registry__ = "robotlearn.teleoperators:TELEOPERATORS"  # where `type` is looked up ("module:attribute")

    type: str
    """Registered teleoperator type (e.g. keyboard, so100_leader)."""
    id: str | None = None
    """Name of this physical unit; selects its calibration file."""


class Teleoperator(abc.ABC):
    """Produces robot actions, optionally receives feedback (e.g. force) from the robot.

    `needs_robot = True` marks teleoperators built with the robot they drive
    (`make_teleoperator_from_config(config, robot=robot)` passes it as `robot=`): scripted
    experts reading the simulator's state, the keyboard starting at the robot's position.
    """

    config_class: type[TeleoperatorConfig] = TeleoperatorConfig
    name: str = "teleoperator"  # the registered type name
    needs_robot: bool = False

    def __init__(self, config: TeleoperatorConfig):
        self.config = config

    @property
    @abc.abstractmethod
    def action_features(self) -> dict[str, Any]:
        """Name -> `float`; must match the robot's `action_features`."""

    @property
    def feedback_features(self) -> dict[str, Any]:
        """Name -> `float` of the feedback `send_feedback` accepts (none by default)."""
        return {}

    @property
    @abc.abstractmethod
    def is_connected(self) -> bool:
        """True between `connect()` and `disconnect()`."""

    @abc.abstractmethod
    def connect(self, calibrate: bool = True) -> None:
        """Open the device. Never prompts; `calibrate` as in `Robot.connect`."""

    @abc.abstractmethod
    def get_action(self) -> dict[str, Any]:
        """The current action, keyed as `action_features`."""

    def send_feedback(self, feedback: dict[str, Any]) -> None:  # noqa: B027  (optional hook, no-op by default)
        """Receive feedback from the robot (ignored by teleoperators without actuators)."""

    def reset(self) -> None:  # noqa: B027  (optional hook, no-op by default)
        """Start afresh for a new episode (`record_loop` calls it before each recorded episode):
        scripted teleoperators restart their plan or trajectory. Default: nothing."""

    @abc.abstractmethod
    def disconnect(self) -> None:
        """Release the device; DeviceNotConnectedError if it is not connected."""

    @property
    def is_calibrated(self) -> bool:
        """True when the device's readings are calibrated (always, for devices without calibration)."""
        return True
