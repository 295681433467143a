"""What a viewer shows of a dataset, read once: per-episode numeric series, image frames and video spans.

Works for a local folder and for a remote root (`http(s)://`, `s3://`, `hf://`) through the streaming
reader's filesystem (`robotlearn.datasets.remote.RemoteFS`): only meta/, the data Parquet files of the
chosen episodes and (for copying) their video files are read. Nothing is decoded: videos are copied as
they are, image features keep their encoded PNG bytes.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from robotlearn.datasets.errors import DatasetError, DatasetFormatError
from robotlearn.datasets.metadata import LeRobotDatasetMetadata
from robotlearn.datasets.table import column_to_numpy

BOOKKEEPING = ("timestamp", "frame_index", "episode_index", "index", "task_index")
NUMERIC = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "bool")
SUCCESS_FEATURES = ("next.success", "success", "is_success", "episode_success")


@dataclass
class VideoSpan:
    """Where an episode's frames of one camera lie: file (relative to the dataset root) and file times, seconds."""

    path: str
    from_s: float
    to_s: float


@dataclass
class Episode:
    """One episode as a viewer needs it. `series`: feature -> (length, dims) float64 values;
    `images`: image feature -> encoded bytes per frame; `videos`: video feature -> span."""

    index: int
    length: int
    tasks: list[str]
    success: bool | None = None
    series: dict[str, np.ndarray] = field(default_factory=dict)
    images: dict[str, list[bytes]] = field(default_factory=dict)
    videos: dict[str, VideoSpan] = field(default_factory=dict)


def open_metadata(root: str | Path) -> LeRobotDatasetMetadata:
    """Metadata of a local folder, or of a remote root (a URL with "://") through the streaming filesystem.

    Raises DatasetError (DatasetFormatError) when there is no readable dataset there."""
    text = str(root)
    if "://" in text and not text.startswith("file://"):
        from robotlearn.datasets.remote import RemoteFS

        remote = RemoteFS(text)
        return LeRobotDatasetMetadata.from_filesystem("remote/dataset", remote, remote.root)
    path = Path(text.removeprefix("file://")).expanduser()
    if not (path / "meta" / "info.json").exists():
        raise DatasetFormatError(
            f"No dataset at {path} ({path / 'meta' / 'info.json'} is missing): pass a LeRobotDataset folder or a remote root"
        )
    return LeRobotDatasetMetadata("local/dataset", root=path, download=False)


def plotted_features(meta: LeRobotDatasetMetadata) -> dict[str, list[str]]:
    """Numeric features a viewer plots (state, action, ... but not the index columns): key -> dimension names."""
    out = {}
    for key, ft in meta.features.items():
        if key in BOOKKEEPING or ft["dtype"] not in NUMERIC or len(ft["shape"]) != 1:
            continue
        dims = int(ft["shape"][0])
        names = ft.get("names")
        if isinstance(names, dict):  # {"motors": [...]} in some datasets
            names = next(iter(names.values()), None)
        if not (isinstance(names, list) and len(names) == dims):
            names = [str(i) for i in range(dims)]
        out[key] = [str(n) for n in names]
    return out


def select_episodes(meta: LeRobotDatasetMetadata, episodes: list[int] | None) -> list[int]:
    """The episode indices to show, checked against the dataset (all of them by default)."""
    n = meta.total_episodes
    if n == 0:
        raise DatasetError(f"{meta.root}: the dataset has no episodes yet")
    if episodes is None:
        return list(range(n))
    bad = [e for e in episodes if not 0 <= e < n]
    if bad:
        raise DatasetError(f"{meta.root}: episodes {bad} do not exist (it has episodes 0..{n - 1})")
    return sorted(set(episodes))


def read_episodes(meta: LeRobotDatasetMetadata, episodes: list[int]) -> list[Episode]:
    """Every chosen episode's series, image bytes and video spans (data files read once each)."""
    cols = meta.episode_columns
    plotted = plotted_features(meta)
    success_key = next((k for k in SUCCESS_FEATURES if k in meta.features), None)
    wanted = list(plotted) + meta.image_keys + ([success_key] if success_key and success_key not in plotted else [])
    by_file: dict[tuple[int, int], list[int]] = {}
    for e in episodes:
        by_file.setdefault((int(cols["data/chunk_index"][e]), int(cols["data/file_index"][e])), []).append(e)
    out: dict[int, Episode] = {}
    for (chunk, file), eps in by_file.items():
        path = meta.data_file(chunk, file)
        table = _read_data(meta, path, ["episode_index", "frame_index", *wanted])
        ep_col = table.column("episode_index").to_numpy()
        arrays = {k: column_to_numpy(table.column(k), meta.features[k], path, k) for k in wanted}
        frame_col = table.column("frame_index").to_numpy()
        for e in eps:
            rows = np.flatnonzero(ep_col == e)
            rows = rows[np.argsort(frame_col[rows], kind="stable")]
            length = int(cols["length"][e])
            if len(rows) != length:
                raise DatasetFormatError(f"{path}: episode {e} has {len(rows)} rows but meta/episodes says {length}")
            ep = Episode(index=e, length=length, tasks=_tasks(meta, e))
            for key in plotted:
                ep.series[key] = np.asarray(arrays[key][rows], dtype=np.float64).reshape(length, -1)
            for key in meta.image_keys:
                ep.images[key] = list(arrays[key][rows])
            if success_key is not None and length:
                ep.success = bool(np.asarray(arrays[success_key][rows[-1]]).reshape(-1)[0])
            for key in meta.video_keys:
                chunk_file = dict(
                    chunk_index=int(cols[f"videos/{key}/chunk_index"][e]),
                    file_index=int(cols[f"videos/{key}/file_index"][e]),
                )
                meta.video_file(key, **chunk_file)  # refuses a path that leaves the root
                relative = meta.info["video_path"].format(video_key=key, **chunk_file)
                start = float(cols[f"videos/{key}/from_timestamp"][e])
                end_col = cols.get(f"videos/{key}/to_timestamp")
                end = float(end_col[e]) if end_col is not None else start + length / meta.fps
                ep.videos[key] = VideoSpan(relative, start, end)
            if "success" in cols and ep.success is None:
                ep.success = bool(cols["success"][e])
            out[e] = ep
    return [out[e] for e in episodes]


def _tasks(meta: LeRobotDatasetMetadata, e: int) -> list[str]:
    tasks = meta.episode_columns.get("tasks")
    if tasks is None:
        return []
    value = tasks[e]
    return [str(t) for t in (value if isinstance(value, (list, tuple, np.ndarray)) else [value])]


def _read_data(meta: LeRobotDatasetMetadata, path, columns: list[str]):
    try:
        if meta.fs is not None:
            with meta.fs.open(path, "rb") as f:
                return pq.read_table(f, columns=columns)
        return pq.read_table(path, columns=columns)
    except FileNotFoundError:
        raise DatasetFormatError(f"{path}: data file not found (referenced by meta/episodes)") from None
    except Exception as e:  # pyarrow raises several kinds for a truncated or foreign file
        raise DatasetFormatError(f"{path}: cannot read data file ({type(e).__name__}: {e})") from None


def copy_dataset_file(meta: LeRobotDatasetMetadata, relative: str, dest: Path) -> int:
    """Copy one file of the dataset (local or remote) to `dest`; returns its size in bytes."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    source = f"{str(meta.root).rstrip('/')}/{relative}"
    try:
        if meta.fs is not None:
            with meta.fs.open(source, "rb") as src, open(dest, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
        else:
            shutil.copyfile(source, dest)
    except FileNotFoundError:
        raise DatasetFormatError(f"{source}: video file not found (referenced by meta/episodes)") from None
    return dest.stat().st_size
