"""The `Camera` interface: connect, read a frame, read the latest frame asynchronously, disconnect.

A new camera is one class implementing these methods plus a config dataclass deriving from
`CameraConfig` (which redeclares `type: str = "<its name>"`), registered by name in
`robotlearn.cameras.CAMERAS` (one line, or an entry point in the group `robotlearn.cameras`).
`robotlearn.cameras.check.check_camera(camera)` says whether it keeps the contract.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np


@dataclass
class CameraConfig:
    """Base config of every camera: which type, and the requested stream.

    On the command line cameras are JSON, `{"front": {"type": "opencv", "width": 640, ...}}`;
    `type` selects the config class through `CAMERAS` (see `__registry__`).
    """

    __registry__ = "robotlearn.cameras:CAMERAS"  # where `type` is looked up ("module:attribute")

    type: str
    """Registered camera type (e.g. opencv, sim); each config class redeclares it with its own name."""
    fps: int | None = None
    """Requested frame rate, frames per second (None: the device's default)."""
    width: int | None = None
    """Requested frame width, pixels (None: the device's default)."""
    height: int | None = None
    """Requested frame height, pixels (None: the device's default)."""


class Camera(abc.ABC):
    """A source of RGB frames, `(H, W, 3)` uint8.

    Attributes every camera has: `config`, and `width`, `height` (pixels) and `fps` (frames per
    second) of the frames it returns (known at the latest after `connect()`).
    Errors: reading before `connect()` raises `DeviceNotConnectedError`, connecting twice
    `DeviceAlreadyConnectedError` (both from `robotlearn.errors`).
    """

    config_class: type[CameraConfig] = CameraConfig
    name: str = "camera"

    def __init__(self, config: CameraConfig):
        self.config = config
        self.width: int | None = config.width
        self.height: int | None = config.height
        self.fps: float | None = config.fps

    @property
    @abc.abstractmethod
    def is_connected(self) -> bool:
        """True between `connect()` and `disconnect()`."""

    @abc.abstractmethod
    def connect(self) -> None:
        """Open the device (and start delivering frames)."""

    @abc.abstractmethod
    def read(self) -> np.ndarray:
        """Block until the next frame and return it, `(H, W, 3)` uint8 RGB."""

    @abc.abstractmethod
    def async_read(self, timeout_ms: float = 200) -> np.ndarray:
        """Return the latest frame captured by a background thread; TimeoutError if none arrives in time."""

    @abc.abstractmethod
    def disconnect(self) -> None:
        """Release the device."""
