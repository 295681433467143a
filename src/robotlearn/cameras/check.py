"""`check_camera(camera)`: does a camera keep the `Camera` contract? Run it on a new camera class.

    from robotlearn.cameras.check import check_camera
    check_camera(MyCamera(MyCameraConfig()))     # ConformanceError listing every problem, or nothing

It connects the camera (it must be able to deliver frames here), reads a few frames and
disconnects it again.
"""

from __future__ import annotations

import numpy as np

from robotlearn.cameras import CAMERAS
from robotlearn.cameras.camera import Camera
from robotlearn.errors import DeviceNotConnectedError
from robotlearn.utils.checks import Checklist, check_registration


def check_camera(camera: Camera, n_frames: int = 2) -> None:
    """Walk the camera contract; raise one ConformanceError listing every problem found.

    Checks: `config.type` is registered in CAMERAS with this class and config class; read
    and disconnect before connect raise DeviceNotConnectedError, a second connect
    DeviceAlreadyConnectedError; `read()` and `async_read()` return `(height, width, 3)` uint8
    frames matching `camera.height`/`camera.width` (or `camera.shape` where a rotation swaps them); `fps` is positive; after `disconnect()` the
    camera reads as not connected.
    """
    checks = Checklist(f"camera {type(camera).__name__}")
    checks.expect(isinstance(camera, Camera), "is not a robotlearn.cameras.Camera subclass")
    check_registration(checks, camera, CAMERAS, "robotlearn.cameras.CAMERAS")
    checks.expect_connection_errors(camera, camera.read, "read()")
    if camera.is_connected:
        for what, read in (("read()", camera.read), ("async_read()", camera.async_read)):
            for _ in range(n_frames):
                ok, frame = checks.call(what, read)
                if not ok:
                    break
                _check_frame(checks, camera, frame, what)
        fps = getattr(camera, "fps", None)
        checks.expect(
            isinstance(fps, (int, float)) and fps > 0, f"fps is {fps!r} after connect(); expected a positive number"
        )
        checks.call("disconnect()", camera.disconnect)
        checks.expect(not camera.is_connected, "is_connected is True after disconnect()")
        checks.expect_raises("read() after disconnect()", camera.read, DeviceNotConnectedError)
    checks.done()


def _check_frame(checks: Checklist, camera: Camera, frame, what: str) -> None:
    if not checks.expect(
        isinstance(frame, np.ndarray), f"{what} returned {type(frame).__name__}, expected an np.ndarray"
    ):
        return
    # A camera that rotates its frames (OpenCV's rotation=90) says so with a `shape` property.
    expected = getattr(camera, "shape", None) or (getattr(camera, "height", None), getattr(camera, "width", None), 3)
    checks.expect(
        frame.shape == tuple(expected), f"{what} returned shape {frame.shape}; (height, width, 3) is {tuple(expected)}"
    )
    checks.expect(frame.dtype == np.uint8, f"{what} returned dtype {frame.dtype}; expected uint8")
