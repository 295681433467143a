"""The `Camera` interface: connect, read a frame, read the latest frame asynchronously, disconnect."""

from __future__ import annotations

import abc
from dataclasses import dataclass

import numpy as np


@dataclass
class CameraConfig:
    """Requested stream: frames per second and size in pixels (None = the device's default)."""

    fps: int | None = None
    width: int | None = None
    height: int | None = None


class Camera(abc.ABC):
    """A source of RGB frames, `(H, W, 3)` uint8."""

    def __init__(self, config: CameraConfig):
        self.config = config

    @property
    @abc.abstractmethod
    def is_connected(self) -> bool: ...

    @abc.abstractmethod
    def connect(self) -> None: ...

    @abc.abstractmethod
    def read(self) -> np.ndarray:
        """Block until the next frame and return it, `(H, W, 3)` uint8 RGB."""

    @abc.abstractmethod
    def async_read(self, timeout_ms: float = 200) -> np.ndarray:
        """Return the latest frame captured by a background thread; TimeoutError if none arrives in time."""

    @abc.abstractmethod
    def disconnect(self) -> None: ...
