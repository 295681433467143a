"""`write_viewer`: a dataset as one folder that opens in a browser from file://, with no server or network.

    write_viewer("data/pusht", "outputs/viewer/pusht")   # then open outputs/viewer/pusht/index.html

The folder holds index.html (the page, the dataset summary and episode list inline), data/episode_NNNNNN.js
(each episode's plotted series, loaded when the episode is opened), the dataset's own camera MP4 files
under videos/ (copied, never re-encoded: the page seeks into each episode's span of a file) and the
PNG frames of image features under images/. Its size is the videos plus a few bytes per value.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from html import escape
from pathlib import Path

import numpy as np

from robotlearn.datasets.errors import DatasetError
from robotlearn.viewer.episodes import Episode, copy_dataset_file, open_metadata, plotted_features, read_episodes, select_episodes
from robotlearn.viewer.page import CSS, JS, TEMPLATE

MARKER = ".robotlearn-viewer"  # a folder holding it was written by write_viewer and may be replaced
SIGNIFICANT_DIGITS = 5


@dataclass
class ViewerResult:
    """What write_viewer wrote: the page, its folder, and how much of it the copied videos are (bytes)."""

    index: Path
    output: Path
    episodes: int
    video_bytes: int
    other_bytes: int


def _rounded(values: np.ndarray) -> list:
    """(T, D) values as nested lists, rounded to SIGNIFICANT_DIGITS per feature (keeps the JSON small)."""
    finite = values[np.isfinite(values)]
    peak = float(np.abs(finite).max()) if finite.size else 0.0
    decimals = SIGNIFICANT_DIGITS - 1 - (math.floor(math.log10(peak)) if peak > 0 else 0)
    rounded = np.round(values, max(decimals, 0))
    rounded[~np.isfinite(rounded)] = 0.0  # JSON has no NaN; a gap would break the line anyway
    if decimals <= 0 or np.all(rounded == np.round(rounded)):
        return rounded.astype(np.int64).tolist()
    return rounded.tolist()


def _prepare_output(output: Path) -> None:
    if output.exists():
        if not output.is_dir():
            raise DatasetError(f"{output}: exists and is not a folder; choose another --output")
        if any(output.iterdir()) and not (output / MARKER).exists():
            raise DatasetError(f"{output}: the folder exists and was not written by the viewer; choose another --output")
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
        series = {key: _rounded(ep.series[key]) for key in features}
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
