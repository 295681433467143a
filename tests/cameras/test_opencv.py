"""OpenCVCamera reading a real video file written with OpenCV (the same code path as a webcam)."""

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from robotlearn.cameras import make_camera, make_camera_config  # noqa: E402
from robotlearn.cameras.opencv import (  # noqa: E402
    CameraNotConnectedError,
    CameraNotFoundError,
    CameraReadError,
    OpenCVCamera,
    OpenCVCameraConfig,
)

W, H, N, FPS = 64, 48, 12, 30


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """N frames; frame i is a solid colour with red = 20*i (BGR on disk), so order is checkable."""
    path = tmp_path_factory.mktemp("vid") / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (W, H))
    assert writer.isOpened()
    for i in range(N):
        frame = np.zeros((H, W, 3), np.uint8)
        frame[:, :, 2] = 20 * i  # red channel in BGR order
        frame[:, :, 0] = 200  # blue
        writer.write(frame)
    writer.release()
    return path


def test_read_returns_rgb_frames_of_requested_size(video):
    cam = OpenCVCamera(OpenCVCameraConfig(index_or_path=str(video), fps=FPS, width=W, height=H, warmup_s=0))
    cam.connect()
    frames = [cam.read() for _ in range(3)]
    assert all(f.shape == (H, W, 3) and f.dtype == np.uint8 for f in frames)
    r, g, b = frames[2][H // 2, W // 2].astype(int)
    assert abs(r - 40) < 12 and abs(b - 200) < 12 and g < 12  # RGB order, third frame
    cam.disconnect()


def test_bgr_mode_and_rotation(video):
    cam = OpenCVCamera(OpenCVCameraConfig(index_or_path=str(video), color_mode="bgr", rotation=90, warmup_s=0))
    cam.connect()
    frame = cam.read()
    assert frame.shape == (W, H, 3) == cam.shape  # rotated: width and height swap
    assert frame[0, 0, 0] > 180  # blue first in BGR
    cam.disconnect()


def test_async_read_returns_latest_frames_then_times_out_at_end(video):
    cam = OpenCVCamera(OpenCVCameraConfig(index_or_path=str(video), width=W, height=H, warmup_s=0))
    cam.connect()
    reds = []
    while True:
        try:
            reds.append(int(cam.async_read(timeout_ms=500)[0, 0, 0]))
        except TimeoutError as e:
            assert "end of the video file" in str(e)
            break
        assert len(reds) <= N
    assert reds == sorted(reds) and len(set(reds)) == len(reds)  # always newer frames, never a repeat
    with pytest.raises(TimeoutError):
        cam.async_read(timeout_ms=20)
    cam.disconnect()
    with pytest.raises(CameraNotConnectedError):
        cam.async_read()


def test_read_after_the_end_of_a_file_raises(video):
    cam = make_camera(make_camera_config(type="opencv", index_or_path=str(video), warmup_s=0))  # via the registry
    assert isinstance(cam, OpenCVCamera)
    cam.connect()
    for _ in range(N):
        cam.read()
    with pytest.raises(CameraReadError, match="end of the video file"):
        cam.read()
    cam.disconnect()


def test_wrong_size_is_refused_with_what_the_source_delivers(video):
    cam = OpenCVCamera(OpenCVCameraConfig(index_or_path=str(video), width=640, height=480, warmup_s=0))
    with pytest.raises(ValueError, match="width 640 requested, 64 delivered"):
        cam.connect()
    assert not cam.is_connected


def test_missing_path_and_unopenable_device(tmp_path):
    with pytest.raises(CameraNotFoundError, match="find-cameras"):
        OpenCVCamera(OpenCVCameraConfig(index_or_path=str(tmp_path / "nope.mp4"))).connect()
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video")
    with pytest.raises(CameraNotFoundError, match="cannot open"):
        OpenCVCamera(OpenCVCameraConfig(index_or_path=str(junk))).connect()


def test_read_before_connect_raises(video):
    with pytest.raises(CameraNotConnectedError, match="connect"):
        OpenCVCamera(OpenCVCameraConfig(index_or_path=str(video))).read()


def test_config_validation():
    with pytest.raises(ValueError, match="rotation"):
        OpenCVCameraConfig(rotation=45)
    assert OpenCVCameraConfig(index_or_path="2").index_or_path == 2
