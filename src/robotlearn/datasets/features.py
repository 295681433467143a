"""Feature schemas: validation, Parquet column types, and per-frame checks for `add_frame`.

A feature is a dict `{"dtype": str, "shape": list[int], "names": list | None, "info": dict?}` as in
`meta/info.json` (FORMAT.md §4). `dtype` is a numpy dtype name, or "image" (PNG inside Parquet),
"video" (frames in MP4 files), or "string".
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pyarrow as pa

from robotlearn.datasets.errors import FeatureError

# Filled by the writer for every frame (FORMAT.md §4.1); user frames must not contain them.
DEFAULT_FEATURES: dict[str, dict] = {
    "timestamp": {"dtype": "float32", "shape": [1], "names": None},
    "frame_index": {"dtype": "int64", "shape": [1], "names": None},
    "episode_index": {"dtype": "int64", "shape": [1], "names": None},
    "index": {"dtype": "int64", "shape": [1], "names": None},
    "task_index": {"dtype": "int64", "shape": [1], "names": None},
}

VISUAL_DTYPES = ("image", "video")
NON_NUMERIC_DTYPES = ("image", "video", "string", "language")


def is_visual(feature: dict) -> bool:
    return feature["dtype"] in VISUAL_DTYPES


def validate_features(features: dict[str, dict], where: str = "features") -> dict[str, dict]:
    """Check a feature schema and return a normalized copy (shapes as lists).

    Raises FeatureError naming the feature and the problem.
    """
    if not isinstance(features, dict) or not features:
        raise FeatureError(f"{where}: expected a non-empty dict of feature name -> spec, got {type(features).__name__}")
    out = {}
    for name, spec in features.items():
        if not isinstance(name, str) or not name:
            raise FeatureError(f"{where}: feature names must be non-empty strings, got {name!r}")
        if "/" in name:
            raise FeatureError(
                f"{where}: feature name {name!r} contains '/', which the format reserves as the separator of "
                f"stats columns (stats/<feature>/<stat>). Rename it, e.g. {name.replace('/', '.')!r}."
            )
        if not isinstance(spec, dict) or "dtype" not in spec or "shape" not in spec:
            raise FeatureError(f"{where}: feature {name!r} must be a dict with 'dtype' and 'shape', got {spec!r}")
        dtype = spec["dtype"]
        if dtype not in NON_NUMERIC_DTYPES:
            try:
                np.dtype(dtype)
            except TypeError:
                raise FeatureError(
                    f"{where}: feature {name!r} has unknown dtype {dtype!r}; use a numpy dtype name "
                    f"(float32, int64, bool, ...) or one of image, video, string"
                ) from None
        shape = spec["shape"]
        if not isinstance(shape, (list, tuple)) or not all(isinstance(s, int) and s > 0 for s in shape):
            raise FeatureError(
                f"{where}: feature {name!r} has invalid shape {shape!r}; expected a list of positive ints"
            )
        if dtype in VISUAL_DTYPES and len(shape) != 3:
            raise FeatureError(
                f"{where}: {dtype} feature {name!r} needs shape (height, width, channels), got {list(shape)}"
            )
        norm = dict(spec)
        norm["shape"] = list(shape)
        norm.setdefault("names", None)
        out[name] = norm
    return out


def image_hwc_shape(feature: dict) -> tuple[int, int, int]:
    """(H, W, C) of an image/video feature, whatever order its `names` declare."""
    shape = feature["shape"]
    names = feature.get("names") or ["height", "width", "channels"]
    if len(names) == 3 and names[0] in ("channel", "channels"):
        return shape[1], shape[2], shape[0]
    return shape[0], shape[1], shape[2]


def arrow_type(feature: dict) -> pa.DataType:
    """The Parquet column type of a non-video feature (FORMAT.md §4.2)."""
    dtype = feature["dtype"]
    if dtype == "image":
        return pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    if dtype == "string":
        return pa.string()
    value = pa.from_numpy_dtype(np.dtype(dtype))
    shape = feature["shape"]
    if list(shape) == [1]:
        return value
    if len(shape) == 1:
        return pa.list_(value, shape[0])
    t = value
    for dim in reversed(shape):
        t = pa.list_(t, dim)
    return t


def huggingface_schema_metadata(features: dict[str, dict]) -> bytes:
    """The `huggingface` schema metadata the reference's `datasets` loader reads to type columns."""
    hf = {}
    for name, ft in features.items():
        dtype = ft["dtype"]
        if dtype == "video":
            continue
        if dtype == "image":
            hf[name] = {"_type": "Image"}
        elif dtype == "string":
            hf[name] = {"dtype": "string", "_type": "Value"}
        elif list(ft["shape"]) == [1]:
            hf[name] = {"dtype": dtype, "_type": "Value"}
        elif len(ft["shape"]) == 1:
            hf[name] = {"feature": {"dtype": dtype, "_type": "Value"}, "length": ft["shape"][0], "_type": "List"}
        else:
            hf[name] = {"shape": list(ft["shape"]), "dtype": dtype, "_type": f"Array{len(ft['shape'])}D"}
    return json.dumps({"info": {"features": hf}}).encode()


def data_schema(features: dict[str, dict]) -> pa.Schema:
    """Schema of the `data/` Parquet files: every non-video feature, in declaration order."""
    fields = [pa.field(name, arrow_type(ft)) for name, ft in features.items() if ft["dtype"] != "video"]
    return pa.schema(fields, metadata={b"huggingface": huggingface_schema_metadata(features)})


# ---------------------------------------------------------------------------------------------
# Checking frames given to add_frame
# ---------------------------------------------------------------------------------------------


def to_hwc_uint8(name: str, value: Any, feature: dict) -> np.ndarray:
    """Accept HWC or CHW, uint8 or float in [0, 1], numpy/torch/PIL; return HWC uint8 of the declared shape."""
    if hasattr(value, "mode") and hasattr(value, "size") and not isinstance(value, np.ndarray):  # PIL image
        value = np.asarray(value)
    if hasattr(value, "detach"):  # torch tensor
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    h, w, c = image_hwc_shape(feature)
    if arr.ndim == 2 and c == 1:
        arr = arr[:, :, None]
    if arr.shape == (c, h, w) and arr.shape != (h, w, c):
        arr = np.transpose(arr, (1, 2, 0))
    if arr.shape != (h, w, c):
        raise FeatureError(
            f"add_frame: feature {name!r} is declared with shape (H, W, C) = {(h, w, c)} but the frame has shape "
            f"{arr.shape}. Resize the camera image or fix the feature's shape in features."
        )
    if arr.dtype == np.uint8:
        return np.ascontiguousarray(arr)
    if np.issubdtype(arr.dtype, np.floating):
        if arr.size and (np.nanmin(arr) < 0.0 or np.nanmax(arr) > 1.0):
            raise FeatureError(
                f"add_frame: float image {name!r} must be in [0, 1]; got values outside. Pass uint8 or scale it."
            )
        return np.ascontiguousarray((arr * 255.0 + 0.5).astype(np.uint8))
    raise FeatureError(f"add_frame: image {name!r} has dtype {arr.dtype}; expected uint8 (or float in [0, 1])")


def to_numeric(name: str, value: Any, feature: dict) -> np.ndarray:
    """Check a numeric value against its feature's dtype and shape; returns an array of exactly that dtype/shape."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    shape = tuple(feature["shape"])
    if shape == (1,) and arr.shape == ():
        arr = arr.reshape(1)
    if arr.shape != shape:
        raise FeatureError(
            f"add_frame: feature {name!r} is declared with shape {list(shape)} but the frame has shape {arr.shape}. "
            f"Check the robot's features or the dataset's features."
        )
    target = np.dtype(feature["dtype"])
    if arr.dtype != target:
        ok = np.can_cast(arr.dtype, target, casting="same_kind") or (target.kind == "f" and arr.dtype.kind in "iub")
        if not ok or (target.kind in "iub" and arr.dtype.kind == "f"):
            raise FeatureError(
                f"add_frame: feature {name!r} has dtype {arr.dtype} but the dataset declares {target}; "
                f"convert it (e.g. np.asarray(x, dtype={target.name!r}))."
            )
        arr = arr.astype(target)
    return arr


def check_frame_keys(frame: dict, features: dict[str, dict]) -> None:
    """Every user feature present, nothing unknown, a `task` string, no bookkeeping keys."""
    expected = {k for k in features if k not in DEFAULT_FEATURES}
    given = set(frame) - {"task"}
    reserved = given & set(DEFAULT_FEATURES) - {"timestamp"}
    if reserved:
        raise FeatureError(f"add_frame: {sorted(reserved)} are filled in by the writer; remove them from the frame")
    given -= {"timestamp"}
    missing = expected - given
    unknown = given - expected
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing features {sorted(missing)}")
        if unknown:
            parts.append(f"unknown features {sorted(unknown)} (not declared in the dataset's features)")
        raise FeatureError(f"add_frame: {'; '.join(parts)}. Declared features: {sorted(expected)}")
    task = frame.get("task")
    if not isinstance(task, str) or not task:
        raise FeatureError(
            "add_frame: each frame needs a 'task' entry holding a non-empty string, e.g. 'pick the cube'"
        )


def encode_png(image_hwc: np.ndarray, compress_level: int = 1) -> bytes:
    from PIL import Image

    img = Image.fromarray(image_hwc[:, :, 0] if image_hwc.shape[2] == 1 else image_hwc)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def decode_png(data: bytes, name: str = "") -> np.ndarray:
    """PNG/JPEG bytes -> HWC uint8."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            arr = np.asarray(img.convert("RGB") if img.mode not in ("RGB", "L") else img)
    except Exception as e:  # PIL raises many types for corrupt data
        raise FeatureError(f"image {name!r}: cannot decode the stored image bytes ({e})") from None
    return arr[:, :, None] if arr.ndim == 2 else arr
