"""The engine every dataset tool writes through: read episodes of source datasets, write a new one.

A tool lists the episodes it wants (`SourceDataset.episode(i)`, possibly from several datasets),
optionally changes them (features dropped or renamed, tasks rewritten, videos re-encoded), and
hands them to a `DatasetBuilder`, which writes, in a folder the caller made (an `AtomicOutput`):

* `data/`: the rows of each episode with `episode_index`, `index` and `task_index` renumbered,
  one row group per episode, files rolling over at `data_files_size_in_mb` (uncompressed Arrow
  bytes: the measure merge and conversion use in the reference, FORMAT.md §8.4);
* `videos/`: each episode's packets copied from its source MP4 (`remux.RemuxWriter`), files
  rolling over at `video_files_size_in_mb`, `from/to_timestamp` recomputed;
* `meta/episodes/`, `meta/tasks.parquet`, `meta/info.json`, `meta/stats.json`: per-episode stats are
  carried over (the bookkeeping columns' recomputed from the new rows), global stats aggregated.
"""

from __future__ import annotations

import collections
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from robotlearn.datasets import stats as stats_lib
from robotlearn.datasets.errors import DatasetError, DatasetFormatError
from robotlearn.datasets.features import DEFAULT_FEATURES, data_schema
from robotlearn.datasets.metadata import (
    CODEBASE_VERSION,
    DEFAULT_DATA_PATH,
    DEFAULT_VIDEO_PATH,
    EPISODES_PATH,
    INFO_PATH,
    STATS_PATH,
    LeRobotDatasetMetadata,
    load_episodes_table,
    next_chunk_file,
    write_json_atomic,
)
from robotlearn.datasets.tools.remux import RemuxWriter

BOOKKEEPING_RENUMBERED = ("episode_index", "index", "task_index")


@dataclass
class VideoSlice:
    path: Path
    from_ts: float
    to_ts: float


@dataclass
class SourceEpisode:
    """One episode to write: where its rows and frames are, its stats and task strings."""

    source: SourceDataset
    index: int
    length: int
    rows: Callable[[], pa.Table]
    videos: dict[str, VideoSlice]
    stats: dict[str, dict[str, np.ndarray]]
    task_names: list[str]  # the source's task table (row task_index -> string)
    label: str = ""
    extra: dict = field(default_factory=dict)


def open_metadata(root: str | Path) -> LeRobotDatasetMetadata:
    """Metadata of a local dataset folder; DatasetFormatError (naming the convert command for v2.x) otherwise."""
    root = Path(root).expanduser()
    info = root / INFO_PATH
    if not info.is_file():
        what = "the folder does not exist" if not root.exists() else "it has no meta/info.json"
        raise DatasetFormatError(f"No dataset at {root} ({what}): pass the folder holding meta/info.json")
    return LeRobotDatasetMetadata("local/dataset", root, download=False)


class SourceDataset:
    """A dataset read by a tool: metadata, per-episode stats, and an LRU of its data files."""

    def __init__(self, root: str | Path):
        self.meta = open_metadata(root)
        self.root = self.meta.root
        self._files: collections.OrderedDict[Path, pa.Table] = collections.OrderedDict()
        table = load_episodes_table(self.root, with_stats=True, chunks_size=self.meta.chunks_size)
        self.episode_stats: list[dict] = []
        if table is not None:
            cols = [c for c in table.column_names if c.startswith("stats/")]
            self.episode_stats = [stats_lib.unflatten_stats_columns(r) for r in table.select(cols).to_pylist()]

    @property
    def num_episodes(self) -> int:
        return self.meta.total_episodes

    def _table(self, path: Path) -> pa.Table:
        t = self._files.get(path)
        if t is None:
            try:
                t = pq.read_table(path)
            except FileNotFoundError:
                raise DatasetFormatError(f"{path}: data file not found (referenced by meta/episodes)") from None
            except (pa.ArrowException, OSError) as e:
                raise DatasetFormatError(f"{path}: cannot read data file (truncated or not Parquet?): {e}") from None
            self._files[path] = t
            while len(self._files) > 2:
                self._files.popitem(last=False)
        self._files.move_to_end(path)
        return t

    def rows(self, ep: int) -> pa.Table:
        cols = self.meta.episode_columns
        path = self.meta.data_file(int(cols["data/chunk_index"][ep]), int(cols["data/file_index"][ep]))
        table = self._table(path)
        lo, hi = self.meta.episode_range(ep)
        index = table.column("index").to_numpy()
        if len(index) and index[-1] - index[0] + 1 == len(index) and index[0] <= lo and hi - 1 <= index[-1]:
            out = table.slice(lo - int(index[0]), hi - lo)
        else:
            out = table.filter(pa.array((index >= lo) & (index < hi)))
        if out.num_rows != hi - lo:
            raise DatasetFormatError(
                f"{path}: holds {out.num_rows} rows of episode {ep} but meta/episodes says {hi - lo}"
            )
        return out

    def episode(self, ep: int) -> SourceEpisode:
        if not 0 <= ep < self.num_episodes:
            raise DatasetError(f"{self.root}: episode {ep} does not exist (episodes 0..{self.num_episodes - 1})")
        cols = self.meta.episode_columns
        videos = {}
        for key in self.meta.video_keys:
            path = self.meta.video_file(
                key, int(cols[f"videos/{key}/chunk_index"][ep]), int(cols[f"videos/{key}/file_index"][ep])
            )
            videos[key] = VideoSlice(
                path, float(cols[f"videos/{key}/from_timestamp"][ep]), float(cols[f"videos/{key}/to_timestamp"][ep])
            )
        stats = self.episode_stats[ep] if ep < len(self.episode_stats) else {}
        return SourceEpisode(
            self,
            ep,
            int(cols["length"][ep]),
            lambda: self.rows(ep),
            videos,
            stats,
            list(self.meta.tasks),
            label=f"{self.root} episode {ep}",
        )


def _episode_table(rows: list[dict], stat_types: dict) -> pa.Table:
    names = list(dict.fromkeys(k for r in rows for k in r))
    arrays = []
    for name in names:
        values = [r.get(name) for r in rows]
        if name == "tasks":
            typ = pa.list_(pa.string())
        elif name in stat_types:
            typ = stat_types[name]
        elif name.endswith("_timestamp"):
            typ = pa.float64()
        else:
            typ = pa.int64()
        arrays.append(pa.array(values, typ))
    return pa.Table.from_arrays(arrays, names=names)


class DatasetBuilder:
    """Writes episodes into `out` (an empty folder). Call `add` per episode, then `finish()`.

    Args:
        out: the folder being built (inside an AtomicOutput).
        info: the source info.json to start from (fps, robot_type, limits, ...).
        features: the output's features (bookkeeping ones included).
        rename: source feature name -> output name (columns, video folders, stats keys).
        tasks: the output's task list in order, or None for order of first appearance.
        task_map: source task string -> output task string (edit-tasks).
        compact: an episode whose video cannot be copied packet for packet (it does not start on a key
            frame) is decoded and re-encoded with the camera's recorded settings instead of refused.
    """

    def __init__(
        self,
        out: Path,
        info: dict,
        features: dict,
        rename: dict | None = None,
        tasks: list[str] | None = None,
        task_map: dict[str, str] | None = None,
        compact: bool = False,
    ):
        self.out = Path(out)
        self.info = {k: v for k, v in info.items() if k not in ("total_chunks", "total_videos")}
        self.features = features
        self.rename = rename or {}
        self.inverse = {v: k for k, v in self.rename.items()}
        self.tasks: list[str] = list(tasks) if tasks is not None else []
        self.task_ids = {t: i for i, t in enumerate(self.tasks)}
        self.fixed_tasks = tasks is not None
        self.task_map = task_map or {}
        self.compact = compact
        self.reencoded: list[str] = []  # "<camera> <episode label>" re-encoded by compact
        self.schema = data_schema(features)
        self.video_keys = [k for k, ft in features.items() if ft["dtype"] == "video"]
        self.chunks_size = int(info.get("chunks_size", 1000))
        self.data_limit = float(info.get("data_files_size_in_mb", 100)) * 2**20
        self.video_limit = float(info.get("video_files_size_in_mb", 200)) * 2**20
        self._data_pos, self._data_writer, self._data_bytes = (0, 0), None, 0
        self._video: dict[str, tuple[tuple[int, int], RemuxWriter]] = {}
        self.rows: list[dict] = []
        self.episode_stats: list[dict] = []
        self.total_frames = 0
        self.video_info: dict[str, dict] = {}

    def _path(self, template: str, **kw) -> Path:
        return self.out / template.format(**kw)

    def _task_index(self, name: str) -> int:
        name = self.task_map.get(name, name)
        if name not in self.task_ids:
            if self.fixed_tasks:
                raise DatasetError(f"task {name!r} is not in the output's task list")
            self.task_ids[name] = len(self.tasks)
            self.tasks.append(name)
        return self.task_ids[name]

    def add(
        self,
        ep: SourceEpisode,
        video_override: dict[str, VideoSlice] | None = None,
        columns_override: dict[str, pa.Array] | None = None,
    ) -> int:
        """Write one episode; returns its new episode_index."""
        new_ep = len(self.rows)
        start = self.total_frames
        table = ep.rows()
        n = table.num_rows
        if n != ep.length:
            raise DatasetFormatError(f"{ep.label}: {n} data rows but length {ep.length} in meta/episodes")
        src_tasks = table.column("task_index").to_numpy()
        if len(src_tasks) and (src_tasks.min() < 0 or src_tasks.max() >= len(ep.task_names)):
            raise DatasetFormatError(
                f"{ep.label}: task_index {int(src_tasks.max())} is not in meta/tasks.parquet "
                f"({len(ep.task_names)} tasks)"
            )
        lut = np.zeros(max(len(ep.task_names), 1), dtype=np.int64)
        for t in dict.fromkeys(src_tasks.tolist()):  # register only the tasks used, in order of first appearance
            lut[t] = self._task_index(ep.task_names[t])
        new_tasks = lut[src_tasks] if len(src_tasks) else src_tasks.astype(np.int64)
        arrays = []
        for f in self.schema:
            name = f.name
            if name == "episode_index":
                arr = pa.array(np.full(n, new_ep, dtype=np.int64))
            elif name == "index":
                arr = pa.array(np.arange(start, start + n, dtype=np.int64))
            elif name == "task_index":
                arr = pa.array(new_tasks)
            elif columns_override and name in columns_override:
                arr = columns_override[name]
            else:
                src = self.inverse.get(name, name)
                if src not in table.column_names:
                    raise DatasetFormatError(f"{ep.label}: data has no column {src!r}")
                arr = table.column(src)
            try:
                arrays.append(arr.cast(f.type) if arr.type != f.type else arr)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
                raise DatasetFormatError(f"{ep.label}: column {name!r} cannot be stored as {f.type}: {e}") from None
        out_table = pa.Table.from_arrays(arrays, schema=self.schema)
        chunk, file = self._write_data(out_table)

        order = list(dict.fromkeys(new_tasks.tolist()))
        row = {
            "episode_index": new_ep,
            "tasks": [self.tasks[i] for i in order],
            "length": n,
            "data/chunk_index": chunk,
            "data/file_index": file,
            "dataset_from_index": start,
            "dataset_to_index": start + n,
        }
        overrides = video_override or {}
        for key in self.video_keys:
            vs = overrides.get(key) or ep.videos.get(self.inverse.get(key, key))
            if vs is None:
                raise DatasetFormatError(f"{ep.label}: no video for camera {key!r}")
            vchunk, vfile, t0, t1 = self._write_video(key, vs, n, ep.label)
            row.update(
                {
                    f"videos/{key}/chunk_index": vchunk,
                    f"videos/{key}/file_index": vfile,
                    f"videos/{key}/from_timestamp": t0,
                    f"videos/{key}/to_timestamp": t1,
                }
            )
        stats = {self.rename.get(k, k): v for k, v in ep.stats.items() if self.rename.get(k, k) in self.features}
        stats.update(ep.extra.get("stats", {}))
        book = {k: out_table.column(k).to_numpy() for k in BOOKKEEPING_RENUMBERED}
        stats.update(stats_lib.compute_episode_stats(book, self.features))
        stats = {k: stats[k] for k in self.features if k in stats}
        self.rows.append(row)
        self.episode_stats.append(stats)
        self.total_frames += n
        return new_ep

    def _write_data(self, table: pa.Table) -> tuple[int, int]:
        if self._data_writer is not None and self._data_bytes + table.nbytes >= self.data_limit:
            self._data_writer.close()
            self._data_writer = None
            self._data_pos = next_chunk_file(*self._data_pos, self.chunks_size)
        if self._data_writer is None:
            path = self._path(DEFAULT_DATA_PATH, chunk_index=self._data_pos[0], file_index=self._data_pos[1])
            path.parent.mkdir(parents=True, exist_ok=True)
            self._data_writer = pq.ParquetWriter(path, self.schema, compression="snappy")
            self._data_bytes = 0
        self._data_writer.write_table(table, row_group_size=max(table.num_rows, 1))
        self._data_bytes += table.nbytes
        return self._data_pos

    def _write_video(self, key: str, vs: VideoSlice, n: int, label: str) -> tuple[int, int, float, float]:
        pos, writer = self._video.get(key, ((0, 0), None))
        if writer is not None and writer.size >= self.video_limit:
            writer.close()
            pos, writer = next_chunk_file(*pos, self.chunks_size), None
        if writer is None:
            writer = RemuxWriter(self._path(DEFAULT_VIDEO_PATH, video_key=key, chunk_index=pos[0], file_index=pos[1]))
        self._video[key] = (pos, writer)
        try:
            t0, t1 = writer.add(vs.path, vs.from_ts, vs.to_ts, n, label)
        except DatasetError as e:
            if not (self.compact and "key frame" in str(e)):
                raise
            t0, t1 = writer.add(*self._reencoded(key, vs, n, label), n, label)
        return pos[0], pos[1], t0, t1

    def _reencoded(self, key: str, vs: VideoSlice, n: int, label: str) -> tuple[Path, float, float]:
        """The episode's frames encoded into an MP4 of their own (first frame a key frame)."""
        from robotlearn.datasets.tools.frames import FrameReader
        from robotlearn.datasets.video_encode import encode_video, video_duration

        info = self.features[key].get("info") or {}
        vcodec = {"av1": "libsvtav1", "h264": "libx264"}.get(info.get("video.codec"), "libsvtav1")
        path = self.out / ".encode" / key / f"episode-{len(self.rows):06d}.mp4"
        frames = FrameReader().video(vs, n, label)
        encode_video(
            frames, path, int(self.info["fps"]), vcodec=vcodec, g=info.get("video.g") or 2, crf=info.get("video.crf")
        )
        self.reencoded.append(f"{key} {label}")
        return path, 0.0, video_duration(path)

    def finish(self, extra_info: dict | None = None, probe_video: dict[str, dict] | None = None) -> dict:
        """Close files and write meta/: episodes, tasks, info.json, stats.json. Returns the info dict.

        `probe_video`: camera -> encoder options; their `info` block is re-read from the first output file
        (for cameras whose videos were encoded, not copied)."""
        from robotlearn.datasets.video_encode import video_info
        from robotlearn.datasets.writer import write_tasks

        if not self.rows:
            raise DatasetError("the output would hold no episode; datasets need at least one")
        if self._data_writer is not None:
            self._data_writer.close()
        for _pos, writer in self._video.values():
            writer.close()
        shutil.rmtree(self.out / ".encode", ignore_errors=True)
        for key, options in (probe_video or {}).items():
            first = self._path(DEFAULT_VIDEO_PATH, video_key=key, chunk_index=0, file_index=0)
            self.features[key] = {**self.features[key], "info": video_info(first, options)}
        stat_types = {}
        for s in self.episode_stats:
            stat_types.update(stats_lib.stats_column_types(s))
        per_file = max(1, min(len(self.rows), int(self.data_limit // 4096) or 1))
        for start in range(0, len(self.rows), per_file):
            c, f = divmod(start // per_file, self.chunks_size)
            rows = []
            for row, st in zip(self.rows[start : start + per_file], self.episode_stats[start : start + per_file]):
                rows.append(
                    {
                        **row,
                        **stats_lib.flatten_stats_columns(st),
                        "meta/episodes/chunk_index": c,
                        "meta/episodes/file_index": f,
                    }
                )
            path = self._path(EPISODES_PATH, chunk_index=c, file_index=f)
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(_episode_table(rows, stat_types), path, compression="snappy")
        write_tasks(self.tasks, self.out)
        info = dict(self.info)
        info.update(
            {
                "codebase_version": CODEBASE_VERSION,
                "total_episodes": len(self.rows),
                "total_frames": self.total_frames,
                "total_tasks": len(self.tasks),
                "splits": {"train": f"0:{len(self.rows)}"},
                "data_path": DEFAULT_DATA_PATH,
                "video_path": DEFAULT_VIDEO_PATH if self.video_keys else None,
                "features": self.features,
                **(extra_info or {}),
            }
        )
        write_json_atomic(info, self.out / INFO_PATH)
        stats_lib.write_stats_json(stats_lib.aggregate_stats(self.episode_stats), self.out / STATS_PATH)
        return info


def default_features(meta: LeRobotDatasetMetadata) -> dict:
    return json.loads(json.dumps(meta.features))


def check_bookkeeping(features: dict) -> None:
    for name in DEFAULT_FEATURES:
        if name not in features:
            raise DatasetError(f"feature {name!r} is bookkeeping; it cannot be removed or renamed")
