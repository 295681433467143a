"""Small datasets and comparisons shared by the dataset-tools tests."""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from robotlearn.datasets.metadata import LeRobotDatasetMetadata
from robotlearn.datasets.tools.remux import decode_all

CAMS = {"top": (16, 16), "side": (16, 32)}


def make_dataset(root: Path, episodes=(6, 7, 8, 9, 10, 5), **options) -> Path:
    """Two h264 cameras, tiny file limits so data and videos roll over into several files and chunks."""
    from robotlearn.datasets.synthetic import write_synthetic_dataset

    opts = {
        "vcodec": "h264",
        "video_files_size_in_mb": 0.004,
        "data_files_size_in_mb": 0.002,
        "chunks_size": 2,
        **options,
    }
    write_synthetic_dataset(
        root,
        num_episodes=len(episodes),
        episode_length=list(episodes),
        cameras=CAMS,
        tasks=("task A", "task B", "task C"),
        **opts,
    )
    return root


def tree_digest(root: Path) -> dict[str, str]:
    """relative path -> sha256 of every file (symlinks and special files by their kind), to prove nothing changed."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if p.is_symlink():
                out[rel] = "link:" + os.readlink(p)
            elif not p.is_file():
                out[rel] = "special"
            elif p.stat().st_size > 2**28:
                out[rel] = f"big:{p.stat().st_size}"
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def episode_rows(root: Path, ep: int) -> pa.Table:
    """The data rows of one episode (all columns), whatever file holds them."""
    meta = LeRobotDatasetMetadata("t/t", root, download=False)
    cols = meta.episode_columns
    path = meta.data_file(int(cols["data/chunk_index"][ep]), int(cols["data/file_index"][ep]))
    table = pq.read_table(path)
    lo, hi = meta.episode_range(ep)
    index = table.column("index").to_numpy()
    return table.filter(pa.array((index >= lo) & (index < hi)))


@functools.lru_cache(maxsize=8)
def _decoded(path: Path, mtime_ns: int) -> list:
    return decode_all(path)


def episode_frames(root: Path, key: str, ep: int) -> np.ndarray:
    """Every decoded frame of one episode of one camera, (N, H, W, 3) uint8."""
    meta = LeRobotDatasetMetadata("t/t", root, download=False)
    cols = meta.episode_columns
    path = meta.video_file(key, int(cols[f"videos/{key}/chunk_index"][ep]), int(cols[f"videos/{key}/file_index"][ep]))
    lo, hi = float(cols[f"videos/{key}/from_timestamp"][ep]), float(cols[f"videos/{key}/to_timestamp"][ep])
    frames = [f for t, f in _decoded(path, path.stat().st_mtime_ns) if lo - 1e-4 <= t < hi - 1e-4]
    return np.stack(frames)


def assert_same_episode(
    a_root: Path, a_ep: int, b_root: Path, b_ep: int, renumbered=("episode_index", "index", "task_index")
) -> None:
    """Rows (all but the renumbered columns; tasks always compared as text) and every camera's frames
    identical, bit for bit."""
    ra, rb = episode_rows(a_root, a_ep), episode_rows(b_root, b_ep)
    assert ra.num_rows == rb.num_rows
    meta_a = LeRobotDatasetMetadata("t/t", a_root, download=False)
    meta_b = LeRobotDatasetMetadata("t/t", b_root, download=False)
    tasks_a = [meta_a.tasks[i] for i in ra.column("task_index").to_pylist()]
    tasks_b = [meta_b.tasks[i] for i in rb.column("task_index").to_pylist()]
    assert tasks_a == tasks_b, (a_ep, b_ep)
    for name in ra.column_names:
        if name in renumbered:
            continue
        assert ra.column(name).equals(rb.column(name)), (name, a_ep, b_ep)
    for key in meta_a.video_keys:
        assert np.array_equal(episode_frames(a_root, key, a_ep), episode_frames(b_root, key, b_ep)), (key, a_ep, b_ep)
