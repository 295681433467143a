"""`write_viewer`: a dataset as one folder that opens in a browser from file://, with no server or network.

    write_viewer("data/pusht", "outputs/viewer/pusht")   # then open outputs/viewer/pusht/index.html

The folder holds index.html (the page, the dataset summary and episode list inline), data/episode_NNNNNN.js
(each episode's plotted series, quantized to 16 bits per value, loaded when the episode is opened), the dataset's own camera MP4 files
under videos/ (copied, never re-encoded: the page seeks into each episode's span of a file) and the
PNG frames of image features under images/. Its size is the videos plus a few bytes per value.
"""

from __future__ import annotations

import base64
import json
import shutil
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np

from robotlearn.datasets.errors import DatasetError
from robotlearn.viewer.episodes import (
    Episode,
    copy_dataset_file,
    open_metadata,
    plotted_features,
    read_episodes,
    select_episodes,
)
from robotlearn.viewer.page import CSS, JS, TEMPLATE

MARKER = ".robotlearn-viewer"  # a folder holding it was written by write_viewer and may be replaced
QUANT_MAX = 65535  # plotted values are stored as uint16 steps of each dimension's range


@dataclass
class ViewerResult:
    """What write_viewer wrote: the page, its folder, and how much of it the copied videos are (bytes)."""

    index: Path
    output: Path
    episodes: int
    video_bytes: int
    other_bytes: int


def encode_series(values: np.ndarray) -> dict:
    """(T, D) values as {"lo": [D], "hi": [D], "q": base64 of (T, D) little-endian uint16}: each dimension
    quantized over its own range (a 65536th of it: far finer than a plot shows, ~3 bytes per value).
    Non-finite values become the dimension's low end."""
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    masked = np.where(finite, values, np.nan)
    with np.errstate(all="ignore"):
        lo = np.nan_to_num(np.nanmin(masked, axis=0), nan=0.0) if len(values) else np.zeros(values.shape[1])
        hi = np.nan_to_num(np.nanmax(masked, axis=0), nan=0.0) if len(values) else np.zeros(values.shape[1])
    span = np.where(hi > lo, hi - lo, 1.0)
    q = np.round((np.where(finite, values, lo) - lo) / span * QUANT_MAX).clip(0, QUANT_MAX).astype("<u2")
    return {"lo": lo.tolist(), "hi": hi.tolist(), "q": base64.b64encode(q.tobytes()).decode("ascii")}


def decode_series(encoded: dict) -> np.ndarray:
    """The inverse of encode_series (what the page does in JavaScript): (T, D) float64."""
    lo, hi = np.array(encoded["lo"]), np.array(encoded["hi"])
    q = np.frombuffer(base64.b64decode(encoded["q"]), dtype="<u2").reshape(-1, len(lo))
    return lo + q / QUANT_MAX * (hi - lo)


def _prepare_output(output: Path) -> None:
    if output.exists():
        if not output.is_dir():
            raise DatasetError(f"{output}: exists and is not a folder; choose another --output")
        if any(output.iterdir()) and not (output / MARKER).exists():
            raise DatasetError(
                f"{output}: the folder exists and was not written by the viewer; choose another --output"
            )
        shutil.rmtree(output)
    output.mkdir(parents=True)
    (output / MARKER).write_text("written by robotlearn dataset view; replaced by the next run\n")


def _image_ext(data: bytes) -> str:
    return "jpg" if data[:3] == b"\xff\xd8\xff" else "png"


def write_viewer(root: str | Path, output: str | Path, episodes: list[int] | None = None) -> ViewerResult:
    """Write the viewer of the dataset at `root` (a folder or a remote URL) into the folder `output`.

    Args:
        root: dataset folder, or http(s):// / s3:// / hf:// root read through the streaming filesystem.
        output: folder to write; replaced if an earlier write_viewer made it, refused if it holds other files.
        episodes: episode indices to include (default: all).

    Raises DatasetError (or DatasetFormatError) for a missing or broken dataset, unknown episodes or an
    output folder that holds something else.
    """
    meta = open_metadata(root)
    chosen = select_episodes(meta, episodes)
    read = read_episodes(meta, chosen)
    output = Path(output).expanduser()
    _prepare_output(output)
    features = plotted_features(meta)
    video_bytes = other = 0
    copied: dict[str, str] = {}  # dataset-relative video path -> viewer-relative path
    listing = []
    image_ext: dict[str, str] = {}
    (output / "data").mkdir()
    for ep in read:
        videos = {}
        for key, span in ep.videos.items():
            if span.path not in copied:
                copied[span.path] = span.path
                video_bytes += copy_dataset_file(meta, span.path, output / span.path)
            videos[key] = {"src": copied[span.path], "from": span.from_s, "to": span.to_s}
        for key, frames in ep.images.items():
            folder = output / "images" / key / f"episode_{ep.index:06d}"
            folder.mkdir(parents=True, exist_ok=True)
            for f, data in enumerate(frames):
                if data is None:
                    continue
                ext = image_ext.setdefault(key, _image_ext(data))
                (folder / f"{f:06d}.{ext}").write_bytes(data)
                other += len(data)
        series = {key: encode_series(ep.series[key]) for key in features}
        text = f"VIEWER_EPISODE({ep.index}, {json.dumps(series, separators=(',', ':'))});\n"
        (output / "data" / f"episode_{ep.index:06d}.js").write_text(text)
        other += len(text)
        listing.append(_listing(ep, videos))
    title = str(meta.root).rstrip("/").rsplit("/", 1)[-1]
    data = {
        "root": str(meta.root),
        "fps": meta.fps,
        "features": features,
        "video_keys": meta.video_keys,
        "image_keys": meta.image_keys,
        "image_ext": {k: image_ext.get(k, "png") for k in meta.image_keys},
        "episodes": listing,
    }
    summary = (
        f"{meta.total_episodes} episodes, {meta.total_frames} frames at {meta.fps} fps; "
        f"cameras: {', '.join(meta.camera_keys) or 'none'}; robot: {meta.robot_type or 'unknown'}"
    )
    # "</" inside the inline JSON would end the <script> early (a task text could hold it).
    inline = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    page = TEMPLATE.format(title=escape(title), css=CSS, js=JS, data=inline, summary=escape(summary))
    index = output / "index.html"
    index.write_text(page, encoding="utf-8")
    other += len(page)
    return ViewerResult(index=index, output=output, episodes=len(read), video_bytes=video_bytes, other_bytes=other)


def _listing(ep: Episode, videos: dict) -> dict:
    return {"index": ep.index, "length": ep.length, "tasks": ep.tasks, "success": ep.success, "videos": videos}
