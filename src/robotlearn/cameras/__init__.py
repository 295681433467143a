"""Cameras behind one interface (`camera.Camera`): OpenCV devices and a synthetic `sim` camera.

    from robotlearn.cameras import CAMERAS, make_camera, make_camera_config
    cam = make_camera(make_camera_config("opencv", index_or_path=0, width=640, height=480, fps=30))
    cam = make_camera(CAMERAS.config_class("sim")(width=64, height=48))

On the command line cameras are JSON: `--robot.cameras='{"front": {"type": "opencv", "index_or_path": 0}}'`;
each entry's `type` is looked up in CAMERAS. Adding a camera: one file with the class and its
config, plus one line below (or an entry point in the group `robotlearn.cameras`).
"""

from __future__ import annotations

from typing import Any

from robotlearn.cameras.camera import Camera, CameraConfig
from robotlearn.utils.registry import Registry

CAMERAS = Registry(
    "camera",
    {
        "opencv": "robotlearn.cameras.opencv:OpenCVCamera",
        "sim": "robotlearn.cameras.sim:SimCamera",
    },
    entry_point_group="robotlearn.cameras",
    extras={"opencv": "hardware"},
)


def make_camera_config(type: str, **options: Any) -> CameraConfig:
    """The config of a camera of `type` ("opencv", "sim") from its options (width, height, fps, ...).

    Options set to None are left at their defaults; an option the config does not have raises
    ConfigError naming it and listing the valid ones."""
    from robotlearn.configs import config_from_dict

    return config_from_dict(CameraConfig, {"type": type, **options}, where="camera")


def make_camera(config: CameraConfig) -> Camera:
    """Build (not connect) the camera that `config` configures: `CAMERAS.get(config.type)(config)`."""
    return CAMERAS.get(config.type)(config)


def make_cameras_from_configs(configs: dict[str, CameraConfig | dict]) -> dict[str, Camera]:
    """{name: config} -> {name: camera} (not connected). A config may also be a plain dict
    `{"type": "opencv", ...}` (as parsed from JSON)."""
    return {
        name: make_camera(make_camera_config(**cfg) if isinstance(cfg, dict) else cfg) for name, cfg in configs.items()
    }


__all__ = ["CAMERAS", "Camera", "CameraConfig", "make_camera", "make_camera_config", "make_cameras_from_configs"]
