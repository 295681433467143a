"""The `Teleoperator` interface: a device (leader arm, keyboard, scripted expert) producing actions."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any


@dataclass
class TeleoperatorConfig:
    """Base config. `id` names the calibration file of a physical unit."""

    id: str | None = None


class Teleoperator(abc.ABC):
    """Produces robot actions, optionally receives feedback (e.g. force) from the robot."""

    config_class: type[TeleoperatorConfig] = TeleoperatorConfig
    name: str = "teleoperator"

    def __init__(self, config: TeleoperatorConfig):
        self.config = config

    @property
    @abc.abstractmethod
    def action_features(self) -> dict[str, Any]:
        """Name -> `float`; must match the robot's `action_features`."""

    @property
    def feedback_features(self) -> dict[str, Any]:
        return {}

    @property
    @abc.abstractmethod
    def is_connected(self) -> bool: ...

    @abc.abstractmethod
    def connect(self, calibrate: bool = True) -> None: ...

    @abc.abstractmethod
    def get_action(self) -> dict[str, Any]: ...

    def send_feedback(self, feedback: dict[str, Any]) -> None:
        """Receive feedback from the robot (ignored by teleoperators without actuators)."""

    @abc.abstractmethod
    def disconnect(self) -> None: ...

    @property
    def is_calibrated(self) -> bool:
        return True

    def calibrate(self) -> None:
        """Run the calibration procedure (no-op when none is needed)."""
