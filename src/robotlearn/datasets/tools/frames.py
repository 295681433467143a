"""Decoded frames of one episode of one camera, for the tools that need pixels (stats, reencode)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from robotlearn.datasets.errors import DatasetFormatError
from robotlearn.datasets.features import decode_png
from robotlearn.datasets.tools.remux import decode_all


class FrameReader:
    """Decodes each MP4 once (the last one is kept) and hands out episode slices as (N, H, W, 3) uint8."""

    def __init__(self):
        self._path: Path | None = None
        self._frames: list = []

    def video(self, vs, n: int, label: str = "") -> np.ndarray:
        """The n frames of `vs` (a build.VideoSlice: path, from_ts, to_ts)."""
        if self._path != vs.path:
            self._frames, self._path = decode_all(vs.path), vs.path
        frames = [f for t, f in self._frames if vs.from_ts - 1e-4 <= t < vs.to_ts - 1e-4]
        if len(frames) != n:
            raise DatasetFormatError(
                f"{vs.path}: decoded {len(frames)} frames for {label or 'an episode'} of {n} frames"
            )
        return np.stack(frames)


def image_column_frames(table, key: str) -> np.ndarray:
    """PNG bytes of an image column -> (N, H, W, C) uint8."""
    return np.stack([decode_png(v["bytes"], key) for v in table.column(key).to_pylist()])
