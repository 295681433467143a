"""Cameras behind one interface (`camera.Camera`): OpenCV devices and a synthetic `sim` camera.

    from robotlearn.cameras import make_camera_config, make_camera
    cfg = make_camera_config(type="opencv", index_or_path=0, width=640, height=480, fps=30)
    cam = make_camera(cfg)

On the command line cameras are JSON: `--robot.cameras='{"front": {"type": "opencv", "index_or_path": 0}}'`.
"""

from __future__ import annotations

import inspect
from typing import Any

from robotlearn.cameras.camera import Camera, CameraConfig

# type name -> module holding the Camera subclass and its config dataclass.
CAMERAS: dict[str, str] = {
    "opencv": "robotlearn.cameras.opencv",
    "sim": "robotlearn.cameras.sim",
}


def camera_class(type_name: str) -> type[Camera]:
    """The Camera subclass for `type_name`; UnknownTypeError lists the known types."""
    from robotlearn.utils.registry import find_class

    return find_class("camera", __name__, Camera, CAMERAS, type_name, " (OpenCV cameras: pip install 'robotlearn[hardware]')")


def make_camera_config(type: str, **options: Any) -> CameraConfig:
    """The config of a camera of `type` ("opencv", "sim") from its options (width, height, fps, ...)."""
    from robotlearn.utils.registry import build_config, config_class_of

    cfg_cls = config_class_of(camera_class(type), CameraConfig)
    return build_config("camera", type, cfg_cls, options, "robot.cameras")


def make_camera(config: CameraConfig) -> Camera:
    """Build (not connect) the camera that `config` configures (found next to its config class)."""
    from robotlearn.utils.registry import _classes_in

    module = inspect.getmodule(type(config))
    candidates = [c for c in _classes_in(module, Camera) if getattr(c, "config_class", None) in (type(config), None, CameraConfig)]
    if not candidates and "." in module.__name__:
        import importlib

        package = importlib.import_module(module.__name__.rpartition(".")[0])
        candidates = _classes_in(package, Camera)
    if not candidates:
        raise ValueError(f"make_camera: no Camera class found for config {type(config).__name__} in {module.__name__}")
    return candidates[0](config)


def make_cameras_from_configs(configs: dict[str, CameraConfig]) -> dict[str, Camera]:
    """{name: config} -> {name: camera} (not connected)."""
    return {name: make_camera(cfg) for name, cfg in configs.items()}


__all__ = ["CAMERAS", "Camera", "CameraConfig", "camera_class", "make_camera", "make_camera_config", "make_cameras_from_configs"]
