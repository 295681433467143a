"""Camera `sim`: a synthetic camera for tests and timing without hardware.

Frames show a moving bar and encode their sequence number in the first pixels (the 8 bytes of
`frame_index` as little-endian in pixel row 0, red channel), so a test can tell which frame was
stored. Like a real camera, `connect()` starts a background thread producing frames at `fps`,
and `async_read()` returns the latest one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from robotlearn.cameras.camera import Camera, CameraConfig
from robotlearn.errors import DeviceAlreadyConnectedError, DeviceNotConnectedError


@dataclass
class SimCameraConfig(CameraConfig):
    """Synthetic camera: `fps` frames per second of `width` x `height` pixels."""

    type: str = "sim"
    """Registered camera type."""
    fps: int | None = 30
    """Frames per second produced by the background thread."""
    width: int | None = 96
    """Frame width, pixels."""
    height: int | None = 96
    """Frame height, pixels."""


def synthetic_frame(index: int, height: int, width: int) -> np.ndarray:
    """Frame number `index`: a bar moving one column per frame; index encoded in row 0 (red)."""
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    frame[:, :, 2] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
    col = index % width
    frame[:, col, 1] = 255
    code = np.frombuffer(np.int64(index).tobytes(), dtype=np.uint8)
    frame[0, : min(8, width), 0] = code[: min(8, width)]
    return frame


def decode_frame_index(frame: np.ndarray) -> int:
    """The `index` a `synthetic_frame` encodes (exact only for lossless storage)."""
    return int(np.frombuffer(frame[0, :8, 0].astype(np.uint8).tobytes(), dtype=np.int64)[0])


class SimCamera(Camera):
    """See the module docstring."""

    config_class = SimCameraConfig
    name = "sim"

    def __init__(self, config: SimCameraConfig | None = None):
        super().__init__(config or SimCameraConfig())
        self.fps = self.config.fps or 30
        self.height = self.config.height or 96
        self.width = self.config.width or 96
        self._count = 0
        self._latest: np.ndarray | None = None
        self._new = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._connected = False

    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self) -> None:
        if self._connected:
            raise DeviceAlreadyConnectedError("SimCamera is already connected")
        self._connected = True
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sim-camera", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        next_t = time.perf_counter()
        while not self._stop.is_set():
            self._latest = self.read()
            self._new.set()
            next_t += 1.0 / self.fps
            time.sleep(max(0.0, next_t - time.perf_counter()))

    def read(self) -> np.ndarray:
        if not self._connected:
            raise DeviceNotConnectedError("SimCamera is not connected: call connect() first")
        frame = synthetic_frame(self._count, self.height, self.width)
        self._count += 1
        return frame

    def async_read(self, timeout_ms: float = 200) -> np.ndarray:
        if not self._connected:
            raise DeviceNotConnectedError("SimCamera is not connected: call connect() first")
        if self._latest is None and not self._new.wait(timeout_ms / 1000):
            raise TimeoutError(f"SimCamera: no frame within {timeout_ms} ms")
        return self._latest

    def disconnect(self) -> None:
        if not self._connected:
            raise DeviceNotConnectedError("SimCamera is not connected")
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
        self._connected = False
        self._latest = None
