"""The camera registry and check_camera over every registered camera (OpenCV on a video file),
plus what it reports for a camera that breaks the contract."""

from dataclasses import dataclass

import numpy as np
import pytest

from robotlearn.cameras import CAMERAS, Camera, CameraConfig, make_camera, make_camera_config
from robotlearn.cameras.check import check_camera
from robotlearn.errors import ConfigError, DeviceNotConnectedError, UnknownTypeError
from robotlearn.utils.checks import ConformanceError


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    cv2 = pytest.importorskip("cv2")
    path = tmp_path_factory.mktemp("vid") / "clip.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (40, 24))
    for i in range(12):
        writer.write(np.full((24, 40, 3), 20 * i, np.uint8))
    writer.release()
    return path


def camera_config(name: str, video) -> CameraConfig:
    if name == "opencv":
        return make_camera_config("opencv", index_or_path=str(video), warmup_s=0)
    return CAMERAS.config_class(name)()


@pytest.mark.parametrize("name", CAMERAS.names())
def test_every_registered_camera_passes_check_camera(name, request):
    video = request.getfixturevalue("video") if name == "opencv" else None
    camera = make_camera(camera_config(name, video))
    check_camera(camera)
    assert not camera.is_connected


@pytest.mark.parametrize("name", CAMERAS.names())
def test_every_registered_camera_config_names_its_type(name):
    assert CAMERAS.config_class(name)().type == name


def test_camera_configs_from_options_reject_unknown_types_and_options():
    assert make_camera_config("sim", width=40, height=30).width == 40
    with pytest.raises(ConfigError, match="did you mean 'sim'"):
        make_camera_config("simm")
    with pytest.raises(UnknownTypeError, match="did you mean 'sim'"):
        CAMERAS.get("simm")
    with pytest.raises(
        ConfigError,
        match=r"camera.depth is not an option of camera type 'sim'.*\(its options: type, fps, width, height\)",
    ):
        make_camera_config("sim", depth=True)


@dataclass
class FlatConfig(CameraConfig):
    type: str = "flat_toy"
    width: int | None = 16
    height: int | None = 8


class FlatCamera(Camera):
    """Returns frames of the wrong shape and dtype, and reads before connect()."""

    config_class = FlatConfig
    name = "flat_toy"

    def __init__(self, config=None):
        super().__init__(config or FlatConfig())
        self.fps = 0
        self.connected = False

    @property
    def is_connected(self):
        return self.connected

    def connect(self):
        self.connected = True

    def read(self):
        return np.zeros((self.width, self.height, 3), np.float32)  # (W, H): swapped

    def async_read(self, timeout_ms=200):
        if not self.connected:
            raise DeviceNotConnectedError("not connected")
        return self.read()

    def disconnect(self):
        self.connected = False


def test_check_camera_lists_every_problem_of_a_broken_camera():
    with pytest.raises(ConformanceError) as info:
        check_camera(FlatCamera())
    problems = "\n".join(info.value.problems)
    for expected in [
        "config.type 'flat_toy' is not registered in robotlearn.cameras.CAMERAS",
        "read() before connect() did not raise",
        "read() returned shape (16, 8, 3); (height, width, 3) is (8, 16, 3)",
        "read() returned dtype float32; expected uint8",
        "fps is 0 after connect()",
        "read() after disconnect() did not raise",
    ]:
        assert expected in problems, f"{expected!r} not in:\n{problems}"
