"""The `Robot` interface: what every robot (real or simulated) implements.

Like gymnasium's Env, it is small on purpose: two feature dicts, `is_connected`, `connect()`,
`get_observation()`, `send_action(action)` and `disconnect()`. A new robot is one class
implementing these plus a config dataclass deriving from `RobotConfig` (redeclaring
`type: str = "<its name>"`), registered by name in `robotlearn.robots.ROBOTS` (one line, or an
entry point in the group `robotlearn.robots`) so `--robot.type=NAME` finds it.
`robotlearn.robots.check.check_robot(robot)` says whether it keeps the contract. Simulators
derive from `SimRobot` (`sim_robot.py`), which adds the hooks recording and replay use.

Features are flat dicts from a name to either `float` (one scalar, e.g. a joint position) or a
shape tuple `(H, W, C)` for a camera image. `hw_to_dataset_features` turns them into dataset
features (`observation.state`, `observation.images.<cam>`, `action`).

Errors: using a robot before `connect()` raises `DeviceNotConnectedError`, connecting twice
`DeviceAlreadyConnectedError` (`robotlearn.errors`; `RobotNotConnectedError` and
`RobotAlreadyConnectedError` are the same classes under their older names). `connect()` never
prompts: a robot whose calibration is missing raises `CalibrationError` naming the
`robotlearn calibrate` command that writes it.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

from robotlearn.errors import DeviceAlreadyConnectedError, DeviceNotConnectedError

# The older names of the two connection errors: the same classes, so either can be caught.
RobotNotConnectedError = DeviceNotConnectedError
RobotAlreadyConnectedError = DeviceAlreadyConnectedError


@dataclass
class RobotConfig:
    """Base config of every robot. `type` selects the config class through `ROBOTS` (see
    `__registry__`); each concrete config redeclares it with its registered name."""

    __registry__ = "robotlearn.robots:ROBOTS"  # where `type` is looked up ("module:attribute")

    type: str
    """Registered robot type (e.g. sim_pusht, so100_follower)."""
    id: str | None = None
    """Name of this physical unit; selects its calibration file."""


class Robot(abc.ABC):
    """A robot that can be observed and commanded at a fixed rate."""

    config_class: type[RobotConfig] = RobotConfig
    name: str = "robot"  # the registered type name; also the dataset's robot_type

    def __init__(self, config: RobotConfig):
        self.config = config

    @property
    @abc.abstractmethod
    def observation_features(self) -> dict[str, Any]:
        """Name -> `float` or image shape `(H, W, C)`."""

    @property
    @abc.abstractmethod
    def action_features(self) -> dict[str, Any]:
        """Name -> `float`."""

    @property
    @abc.abstractmethod
    def is_connected(self) -> bool:
        """True between `connect()` and `disconnect()`."""

    @abc.abstractmethod
    def connect(self, calibrate: bool = True) -> None:
        """Open the robot's devices. Never prompts.

        calibrate: robots with a calibration file raise CalibrationError (naming the
        `robotlearn calibrate` command) when it is missing; False connects without one, for the
        calibration procedure itself. Ignored by robots that need no calibration.
        """

    @abc.abstractmethod
    def disconnect(self) -> None:
        """Release the robot's devices; DeviceNotConnectedError if it is not connected."""

    @property
    def is_calibrated(self) -> bool:
        """True when the robot's joints can be read in calibrated units (always, for robots without calibration)."""
        return True

    @abc.abstractmethod
    def get_observation(self) -> dict[str, Any]:
        """Current observation: name -> float or HWC uint8 image, keyed as `observation_features`."""

    @abc.abstractmethod
    def send_action(self, action: dict[str, Any]) -> dict[str, Any]:
        """Command the robot; returns the action actually sent (e.g. after clipping), keyed as `action_features`."""

    def __enter__(self):
        """`with robot:` connects the robot and disconnects it at the end of the block."""
        self.connect()
        return self

    def __exit__(self, *exc):
        if self.is_connected:
            self.disconnect()
