"""The `Robot` interface: what every robot (real or simulated) implements.

Like gymnasium's Env, it is small on purpose. A new robot is one class implementing these methods
plus a config dataclass, registered by name in `robotlearn.robots.ROBOTS` so `--robot.type=NAME`
finds it.

Features are flat dicts from a name to either `float` (one scalar, e.g. a joint position) or a
shape tuple `(H, W, C)` for a camera image. `hw_to_dataset_features` turns them into dataset
features (`observation.state`, `observation.images.<cam>`, `action`).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any


class RobotNotConnectedError(RuntimeError):
    """A robot, teleoperator or camera was used before `connect()` (or after `disconnect()`)."""


class RobotAlreadyConnectedError(RuntimeError):
    """`connect()` was called twice."""


@dataclass
class RobotConfig:
    """Base config. `id` names the calibration file of a physical unit."""

    id: str | None = None


class Robot(abc.ABC):
    """A robot that can be observed and commanded at a fixed rate."""

    config_class: type[RobotConfig] = RobotConfig
    name: str = "robot"

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
    def is_connected(self) -> bool: ...

    @abc.abstractmethod
    def connect(self, calibrate: bool = True) -> None: ...

    @abc.abstractmethod
    def disconnect(self) -> None: ...

    @property
    def is_calibrated(self) -> bool:
        return True

    def calibrate(self) -> None:
        """Run the robot's calibration procedure (no-op for robots that need none)."""

    @abc.abstractmethod
    def get_observation(self) -> dict[str, Any]:
        """Current observation: name -> float or HWC uint8 image."""

    @abc.abstractmethod
    def send_action(self, action: dict[str, Any]) -> dict[str, Any]:
        """Command the robot; returns the action actually sent (e.g. after clipping)."""

    # -- optional hooks (simulated robots override them; real robots keep the defaults) ------------
    def reset_episode(self) -> None:
        """Start a new episode: a simulator draws a new initial state. `record_loop` calls it before
        recording each episode. No-op for real robots (a person resets the scene)."""

    @property
    def extra_dataset_features(self) -> dict[str, dict]:
        """Extra dataset features (full specs, keyed by dataset key, e.g. `observation.environment_state`)
        this robot can provide beyond `observation_features`. Recorded only if the dataset declares them."""
        return {}

    def get_extra_observation(self) -> dict[str, Any]:
        """Values of `extra_dataset_features` for the current step (dataset key -> array)."""
        return {}

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc):
        if self.is_connected:
            self.disconnect()
