"""`delta_timestamps` windows: validation, clamping to the episode, and `<key>_is_pad` masks.

FORMAT.md §11: for absolute frame `a` in episode [start, end) and integer offset `d`,
the query row is clamp(a + d, start, end - 1) and the pad flag is True where a + d left the episode;
padded slots repeat the edge frame.
"""

from __future__ import annotations

import numpy as np


def check_delta_timestamps(
    delta_timestamps: dict[str, list[float]], fps: int, tolerance_s: float, features: dict[str, dict]
) -> None:
    """Raise ValueError when a key is unknown or an offset is not a whole number of frames at `fps`."""
    if not isinstance(delta_timestamps, dict):
        raise ValueError(
            f"delta_timestamps must be a dict of feature -> list of seconds, got {type(delta_timestamps).__name__}"
        )
    for key, offsets in delta_timestamps.items():
        if key not in features:
            raise ValueError(f"delta_timestamps: unknown feature {key!r}; the dataset has {sorted(features)}")
        if not isinstance(offsets, (list, tuple)) or len(offsets) == 0:
            raise ValueError(f"delta_timestamps[{key!r}] must be a non-empty list of offsets in seconds")
        bad = [float(t) for t in offsets if abs(float(t) * fps - round(float(t) * fps)) / fps > tolerance_s]
        if bad:
            raise ValueError(
                f"delta_timestamps[{key!r}]: offsets {bad} are not multiples of 1/fps = {1 / fps:.6g} s "
                f"(within tolerance_s={tolerance_s}). Use k / {fps} for integer k."
            )


def delta_indices(delta_timestamps: dict[str, list[float]], fps: int) -> dict[str, np.ndarray]:
    """Seconds -> integer frame offsets, per key."""
    return {k: np.array([round(float(t) * fps) for t in v], dtype=np.int64) for k, v in delta_timestamps.items()}


def window(
    absolute_index: int, episode_start: int, episode_end: int, offsets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows to read and their pad mask for one key.

    Returns (query_indices (T,) int64 clamped to [episode_start, episode_end - 1], is_pad (T,) bool).
    """
    wanted = absolute_index + offsets
    query = np.clip(wanted, episode_start, episode_end - 1)
    return query, wanted != query
