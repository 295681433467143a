"""`OpenCVCamera`: a USB webcam (`index_or_path=0`, `/dev/video2`) or a video file, read with OpenCV.

    cam = OpenCVCamera(OpenCVCameraConfig(index_or_path=0, fps=30, width=640, height=480))
    cam.connect()
    frame = cam.read()        # (480, 640, 3) uint8 RGB, blocks for the next frame
    frame = cam.async_read()  # latest frame from a background thread, for control loops
    cam.disconnect()

`width`/`height` are the capture size; a rotation of ±90° swaps them in the returned frames.
If the device cannot deliver the requested size or fps, `connect()` fails and names what it
delivers instead (frames are never silently resized). A video file plays at its own pace in
`async_read` (one frame per 1/fps s) and `read()` raises `CameraReadError` once it ends.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robotlearn.cameras.camera import Camera, CameraConfig
from robotlearn.errors import (
    ConfigError,
    DeviceAlreadyConnectedError,
    DeviceError,
    DeviceNotConnectedError,
    MissingDependencyError,
)

# The "not connected" error is the one of every device (robotlearn.errors); CameraNotConnectedError
# stays as its name here for existing callers.
CameraNotConnectedError = DeviceNotConnectedError


class CameraNotFoundError(DeviceError, ConnectionError):
    """OpenCV cannot open this index or path."""


class CameraReadError(DeviceError, RuntimeError):
    """The device stopped delivering frames (unplugged, or end of a video file)."""


@dataclass
class OpenCVCameraConfig(CameraConfig):
    """A camera OpenCV opens: a device index or path, or a video file."""

    type: str = "opencv"
    """Registered camera type."""
    index_or_path: int | str = 0
    """Camera index (0, 1, ...), device path (/dev/video0) or video file."""
    color_mode: str = "rgb"
    """Channel order of the returned frames: rgb or bgr."""
    rotation: int = 0
    """Clockwise rotation of the returned frames, degrees: 0, 90, 180 or -90 (= 270)."""
    warmup_s: float = 1.0
    """Frames read and discarded at connect while auto-exposure settles, seconds (not for files)."""

    def __post_init__(self):
        if self.color_mode not in ("rgb", "bgr"):
            raise ConfigError(f"OpenCVCameraConfig.color_mode must be 'rgb' or 'bgr', got {self.color_mode!r}")
        if self.rotation not in (0, 90, 180, -90, 270):
            raise ConfigError(f"OpenCVCameraConfig.rotation must be 0, 90, 180 or -90, got {self.rotation!r}")
        if isinstance(self.index_or_path, str) and self.index_or_path.isdigit():
            self.index_or_path = int(self.index_or_path)


def _cv2():
    try:
        import cv2
    except ImportError as e:
        raise MissingDependencyError(
            "OpenCVCamera needs OpenCV (cv2), which is not installed: pip install 'robotlearn[hardware]'"
        ) from e
    return cv2


class OpenCVCamera(Camera):
    """See the module docstring. `shape` is the `(H, W, 3)` of returned frames."""

    config_class = OpenCVCameraConfig
    name = "opencv"

    def __init__(self, config: OpenCVCameraConfig):
        super().__init__(config)
        self.config: OpenCVCameraConfig = config
        self._cap = None
        self._is_file = isinstance(config.index_or_path, (str, Path)) and Path(config.index_or_path).is_file()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._read_lock = threading.Lock()
        self._latest: np.ndarray | None = None
        self._latest_seq = 0
        self._returned_seq = 0
        self._thread_error: Exception | None = None
        self.fps = config.fps
        self.width = config.width
        self.height = config.height

    def __repr__(self) -> str:
        return f"OpenCVCamera({self.config.index_or_path!r})"

    @property
    def shape(self) -> tuple[int, int, int]:
        """(H, W, 3) of returned frames (after rotation); known once width/height are."""
        if self.width is None or self.height is None:
            raise ConfigError(f"{self}: width/height unknown before connect(); set them in the camera config")
        h, w = self.height, self.width
        return (w, h, 3) if self.config.rotation in (90, -90, 270) else (h, w, 3)

    @property
    def is_connected(self) -> bool:
        return self._cap is not None

    def connect(self) -> None:
        """Open the device, apply and verify fps/size, warm up. CameraNotFoundError if it cannot open."""
        cv2 = _cv2()
        if self.is_connected:
            raise DeviceAlreadyConnectedError(f"{self} is already connected")
        src = self.config.index_or_path
        src = str(src) if isinstance(src, Path) else src
        if isinstance(src, str) and not self._is_file and not Path(src).exists():
            raise CameraNotFoundError(
                f"{self}: {src!r} does not exist. Run `robotlearn find-cameras` to list the cameras OpenCV can open."
            )
        cap = cv2.VideoCapture(src)
        if not cap.isOpened():
            cap.release()
            raise CameraNotFoundError(
                f"{self}: OpenCV cannot open {src!r}. Check that it is plugged in and not used by another program; run `robotlearn find-cameras` to list the available ones."
            )
        if not self._is_file:
            if self.config.width is not None:
                cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.config.width)
            if self.config.height is not None:
                cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.config.height)
            if self.config.fps is not None:
                cap.set(cv2.CAP_PROP_FPS, self.config.fps)
        actual_w, actual_h = (
            int(round(cap.get(cv2.CAP_PROP_FRAME_WIDTH))),
            int(round(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))),
        )
        actual_fps = cap.get(cv2.CAP_PROP_FPS)
        problems = []
        if self.config.width is not None and self.config.width != actual_w:
            problems.append(f"width {self.config.width} requested, {actual_w} delivered")
        if self.config.height is not None and self.config.height != actual_h:
            problems.append(f"height {self.config.height} requested, {actual_h} delivered")
        if (
            self.config.fps is not None
            and actual_fps > 0
            and not math.isclose(self.config.fps, actual_fps, rel_tol=1e-3)
        ):
            problems.append(f"fps {self.config.fps} requested, {actual_fps:g} delivered")
        if problems:
            cap.release()
            raise ConfigError(
                f"{self}: {'; '.join(problems)}. Set the camera config to a mode it supports (see `robotlearn find-cameras`)."
            )
        self._cap = cap
        self.width, self.height = actual_w, actual_h
        self.fps = self.config.fps or (actual_fps if actual_fps > 0 else None)
        if not self._is_file and self.config.warmup_s > 0:
            end = time.monotonic() + self.config.warmup_s
            while time.monotonic() < end:
                self.read()

    def _process(self, bgr: np.ndarray) -> np.ndarray:
        cv2 = _cv2()
        h, w = bgr.shape[:2]
        if (w, h) != (self.width, self.height):
            raise CameraReadError(f"{self}: frame is {w}x{h}, expected {self.width}x{self.height}")
        frame = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB) if self.config.color_mode == "rgb" else bgr
        rot = {
            90: cv2.ROTATE_90_CLOCKWISE,
            180: cv2.ROTATE_180,
            -90: cv2.ROTATE_90_COUNTERCLOCKWISE,
            270: cv2.ROTATE_90_COUNTERCLOCKWISE,
        }
        if self.config.rotation:
            frame = cv2.rotate(frame, rot[self.config.rotation])
        return np.ascontiguousarray(frame)

    def read(self) -> np.ndarray:
        """Block for the next frame: `(H, W, 3)` uint8, RGB unless color_mode="bgr"."""
        if not self.is_connected:
            raise CameraNotConnectedError(f"{self} is not connected; call connect() first")
        with self._read_lock:  # read() and the async thread may share the device
            ok, bgr = self._cap.read()
        if not ok or bgr is None:
            what = "reached the end of the video file" if self._is_file else "returned no frame (unplugged?)"
            raise CameraReadError(f"{self}: {what}")
        return self._process(bgr)

    def _loop(self) -> None:
        period = 1.0 / self.fps if (self._is_file and self.fps) else 0.0
        next_t = time.monotonic()
        while not self._stop.is_set():
            try:
                frame = self.read()
            except Exception as e:  # reported to the next async_read caller, not swallowed
                with self._cond:
                    self._thread_error = e
                    self._cond.notify_all()
                return
            with self._cond:
                self._latest, self._latest_seq = frame, self._latest_seq + 1
                self._cond.notify_all()
            if period:  # a file has no clock of its own: pace it like a camera
                next_t += period
                self._stop.wait(max(0.0, next_t - time.monotonic()))

    def async_read(self, timeout_ms: float = 200) -> np.ndarray:
        """Latest frame not returned before, captured by a background thread (started on first call).

        Waits up to `timeout_ms` for a new frame; TimeoutError if none arrives (the message says
        why when the source ended or failed).
        """
        if not self.is_connected:
            raise CameraNotConnectedError(f"{self} is not connected; call connect() first")
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name=f"{self}-reader", daemon=True)
            self._thread.start()
        with self._cond:
            self._cond.wait_for(
                lambda: self._latest_seq > self._returned_seq or self._thread_error is not None,
                timeout=timeout_ms / 1000,
            )
            if self._latest_seq > self._returned_seq:
                self._returned_seq = self._latest_seq
                return self._latest
            reason = f" (reader stopped: {self._thread_error})" if self._thread_error is not None else ""
            raise TimeoutError(f"{self}: no new frame within {timeout_ms:g} ms{reason}")

    def disconnect(self) -> None:
        """Stop the reader thread and release the device."""
        if not self.is_connected:
            raise CameraNotConnectedError(f"{self} is not connected")
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        self._cap.release()
        self._cap = None
        self._latest, self._latest_seq, self._returned_seq, self._thread_error = None, 0, 0, None
