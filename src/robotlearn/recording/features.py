"""Hardware features -> dataset features, and one control step's values -> one dataset frame.

Robots and teleoperators describe their data as flat dicts `name -> float` (a scalar such as a
joint position) or `name -> (H, W, C)` (a camera). Datasets store vectors and images:

    hw_to_dataset_features({"shoulder.pos": float, "elbow.pos": float, "front": (480, 640, 3)}, "observation")
    -> {"observation.state": {"dtype": "float32", "shape": (2,), "names": ["shoulder.pos", "elbow.pos"]},
        "observation.images.front": {"dtype": "video", "shape": (480, 640, 3), "names": ["height", "width", "channels"]}}

    hw_to_dataset_features({"shoulder.pos": float, "elbow.pos": float}, "action")
    -> {"action": {"dtype": "float32", "shape": (2,), "names": ["shoulder.pos", "elbow.pos"]}}

The measured capture time of each frame is an optional extra feature (`capture_time_feature()`):
`record_loop` fills it when the dataset declares it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# Seconds since the start of the episode at which the observation was read (measured, not nominal).
CAPTURE_TIME_KEY = "observation.capture_time"
REWARD_KEYS = ("next.reward", "next.success", "next.done")  # LeRobot's columns for what followed the action


def _is_image_shape(value: Any) -> bool:
    return isinstance(value, tuple) and len(value) == 3 and all(isinstance(v, int) for v in value)


def hw_to_dataset_features(hw_features: dict[str, Any], prefix: str, use_video: bool = True) -> dict[str, dict]:
    """Dataset features for `hw_features` under `prefix` ("observation" or "action").

    Scalars (`float`, `int`, `bool`) are gathered, in order, into one float32 vector named `action`
    (prefix "action") or `observation.state` (prefix "observation"), with their names. Image shapes
    `(H, W, C)` become `<prefix>.images.<name>` features of dtype "video" (or "image" if
    `use_video=False`). Raises ValueError naming any feature of another kind.
    """
    if prefix not in ("observation", "action"):
        raise ValueError(f"hw_to_dataset_features: prefix must be 'observation' or 'action', got {prefix!r}")
    names, images = [], {}
    for name, kind in hw_features.items():
        if kind in (float, int, bool):
            names.append(name)
        elif _is_image_shape(kind):
            images[name] = kind
        else:
            raise ValueError(
                f"hw_to_dataset_features: feature {name!r} is {kind!r}; expected float (a scalar) or an image shape "
                f"(height, width, channels)"
            )
    out: dict[str, dict] = {}
    if names:
        key = "action" if prefix == "action" else "observation.state"
        out[key] = {"dtype": "float32", "shape": (len(names),), "names": names}
    for name, shape in images.items():
        out[f"{prefix}.images.{name}"] = {
            "dtype": "video" if use_video else "image",
            "shape": shape,
            "names": ["height", "width", "channels"],
        }
    return out


def capture_time_feature() -> dict[str, dict]:
    """The optional `observation.capture_time` feature: float32 (1,), seconds since episode start."""
    return {CAPTURE_TIME_KEY: {"dtype": "float32", "shape": (1,), "names": ["seconds"]}}


def build_dataset_frame(ds_features: dict[str, dict], values: dict[str, Any], prefix: str) -> dict[str, np.ndarray]:
    """Pick the dataset features under `prefix` from hardware `values` (name -> float or image).

    The vector feature (`action` / `observation.state`) is assembled in its `names` order as
    float32; images are returned as given. Raises KeyError naming a value the features need but
    `values` lacks. Extra features (e.g. `observation.capture_time`) are not filled here.
    """
    frame: dict[str, np.ndarray] = {}
    vector_key = "action" if prefix == "action" else "observation.state"
    for key, ft in ds_features.items():
        if not key.startswith(prefix):
            continue
        if key == vector_key:
            try:
                frame[key] = np.array([values[n] for n in ft["names"]], dtype=np.float32)
            except KeyError as e:
                raise KeyError(
                    f"build_dataset_frame: {key} needs {e.args[0]!r} but the robot/teleoperator gave only "
                    f"{sorted(values)}; check that the dataset features match the robot's features"
                ) from None
        elif key.startswith(f"{prefix}.images."):
            name = key[len(f"{prefix}.images.") :]
            if name not in values:
                raise KeyError(
                    f"build_dataset_frame: camera {name!r} ({key}) missing from the observation {sorted(values)}"
                )
            frame[key] = values[name]
    return frame


def reward_features() -> dict:
    """next.reward (float32), next.success and next.done (bool): what a simulated robot reported
    after the frame's action, as RL reads them (done = the episode ended in success)."""
    return {
        "next.reward": {"dtype": "float32", "shape": (1,), "names": None},
        "next.success": {"dtype": "bool", "shape": (1,), "names": None},
        "next.done": {"dtype": "bool", "shape": (1,), "names": None},
    }
