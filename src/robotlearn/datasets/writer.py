"""Recording a LeRobotDataset v3.0, crash-safe.

Durability rule: when `save_episode()` returns, the episode is on disk in complete, readable files,
whatever happens next (SIGKILL, power loss after fsync). How:

* Every file is written to a temporary name, fsynced, then `os.replace`d over its final name, so a
  reader only ever sees the old or the new version of a file, never a torn one. Parquet footers
  therefore always exist (the reference keeps writers open and loses them on a hard kill).
* The order inside `save_episode` is: tasks -> data rows -> videos -> episodes table -> info.json
  -> stats.json. The episodes table is the commit point: an episode exists if and only if its row
  is there. Anything written before it (rows at the end of a data file, frames at the end of an
  MP4, a new task) is unreferenced until then and harmless; `info.json` totals are re-derived from
  the episodes table when they disagree.
* Appending to a data/episodes Parquet file rewrites it (to a temp file) with one row group per
  episode; appending to an MP4 remuxes it (no re-encode). Files roll over by size as in FORMAT.md §8.

Video frames are encoded while recording, in one background thread per camera (`VideoEncoder`, whose codec
threads run at a lower priority than the caller), so `add_frame` only copies the frame into a reused buffer
(~0.1 ms per 480x640 camera) and `save_episode` only waits for the last few frames. The camera's image
statistics are accumulated in its encoder thread too, off the control loop.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa

from robotlearn.datasets import stats as stats_lib
from robotlearn.datasets.episode_encoders import EpisodeEncoders
from robotlearn.datasets.errors import DatasetError, DatasetFormatError, FeatureError
from robotlearn.datasets.features import (
    DEFAULT_FEATURES,
    check_frame_keys,
    data_schema,
    encode_png,
    to_hwc_uint8,
    to_numeric,
    validate_features,
)
from robotlearn.datasets.metadata import (
    CODEBASE_VERSION,
    DEFAULT_CHUNKS_SIZE,
    DEFAULT_DATA_FILE_SIZE_MB,
    DEFAULT_DATA_PATH,
    DEFAULT_VIDEO_FILE_SIZE_MB,
    DEFAULT_VIDEO_PATH,
    EPISODES_PATH,
    INFO_PATH,
    STATS_PATH,
    LeRobotDatasetMetadata,
    default_root,
    fsync_dir,
    load_episodes_table,
    next_chunk_file,
    write_json_atomic,
)
from robotlearn.datasets.parquet_files import read_row_groups, write_parquet_atomic, write_tasks

logger = logging.getLogger(__name__)

STAGING_DIR = ".staging"  # scratch space inside the root for videos being encoded


class EpisodeBuffer:
    """Frames of the episode being recorded."""

    def __init__(self):
        self.size = 0
        self.tasks: list[str] = []
        self.values: dict[str, list] = {}
        self.encoders: dict = {}  # video key -> VideoEncoder
        self.image_stats: dict = {}  # camera key -> ImageStatsAccumulator
        self.started = time.perf_counter()


class DatasetWriter:
    """Appends episodes to a dataset folder. Use through `LeRobotDataset.create` / `.resume`."""

    def __init__(
        self, repo_id: str, root: Path, resumed: bool, vcodec: str, encoder_options: dict, image_writer_threads: int
    ):
        self.repo_id = repo_id
        self.root = root
        self.meta = LeRobotDatasetMetadata(repo_id, root, download=False)
        self.vcodec = vcodec
        self.encoder_options = encoder_options
        self.buffer: EpisodeBuffer | None = None
        self.on_episode_saved = None
        self._finalized = False
        self._pool = (
            ThreadPoolExecutor(image_writer_threads, thread_name_prefix="png") if image_writer_threads > 0 else None
        )
        # Image stats are computed off the recording loop, in order, on a small copy of each frame; after each
        # save, the aggregated meta/stats.json is written there too.
        self._stats_worker = ThreadPoolExecutor(1, thread_name_prefix="stats")  # image stats, then stats.json
        self._stats_written = None  # the Future of the last save's meta/stats.json
        self._schema = data_schema(self.meta.features)
        # Array.cast in _episode_table imports pyarrow.compute on first use: 0.1-0.2 s that would otherwise
        # land in the first save_episode of every recording (3 AV1 cameras: 0.33 s instead of ~0.2 s). The first
        # save also imported numpy.ma (with dateutil), imported here too.
        import numpy.ma  # noqa: F401
        import pyarrow.compute  # noqa: F401

        # Files this session may append to: (chunk, file) -> row groups already in the file.
        self._data_pos: tuple[int, int] | None = None
        self._data_groups: list[pa.Table] = []
        self._video_pos: dict[str, tuple[int, int]] = {}
        self._episodes_pos: tuple[int, int] | None = None
        self._episodes_rows: list[pa.Table] = []
        self._episode_stats: list[dict] = []
        self._resumed = resumed
        # "spill": a live recording never waits for the encoder (late frames go to disk, none dropped);
        # "block": offline writers (conversion, benchmarks) wait for it instead.
        self.video_when_full = "spill"
        self._encoders = EpisodeEncoders(self.meta, self._new_encoder)  # opened one episode ahead
        if resumed:
            self._load_existing_stats()

    # --- construction --------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        repo_id: str,
        fps: int,
        features: dict[str, dict],
        root: str | Path | None = None,
        robot_type: str | None = None,
        use_videos: bool = True,
        image_writer_threads: int = 0,
        vcodec: str = "libsvtav1",
        data_files_size_in_mb: float = DEFAULT_DATA_FILE_SIZE_MB,
        video_files_size_in_mb: float = DEFAULT_VIDEO_FILE_SIZE_MB,
        chunks_size: int = DEFAULT_CHUNKS_SIZE,
        crf: int | None = None,
        g: int = 2,
        preset: int | None = None,
        video_when_full: str = "spill",
        **unsupported,
    ) -> DatasetWriter:
        if unsupported:
            logger.warning("LeRobotDataset.create: ignoring options %s (not used by robotlearn)", sorted(unsupported))
        root = Path(root).expanduser() if root is not None else default_root(repo_id)
        if root.exists() and any(root.iterdir()):
            raise FileExistsError(
                f"{root} already exists and is not empty; LeRobotDataset.create never writes over existing data. "
                f"Use LeRobotDataset.resume(repo_id, root) to append, or choose another root."
            )
        if not isinstance(fps, int) or isinstance(fps, bool) or fps <= 0:
            if isinstance(fps, float) and fps.is_integer() and fps > 0:
                fps = int(fps)
            else:
                raise FeatureError(
                    f"LeRobotDataset.create: fps must be a positive integer (the format stores one integer rate), got {fps!r}"
                )
        user = validate_features(features, where="LeRobotDataset.create features")
        reserved = set(user) & set(DEFAULT_FEATURES)
        if reserved:
            raise FeatureError(
                f"LeRobotDataset.create: {sorted(reserved)} are added automatically; remove them from features"
            )
        for name, ft in user.items():
            if ft["dtype"] in ("image", "video"):
                ft["dtype"] = "video" if use_videos else "image"
                ft.setdefault("names", ["height", "width", "channels"])
                if ft["names"] is None:
                    ft["names"] = ["height", "width", "channels"]
                h, w, c = ft["shape"]
                if ft["dtype"] == "video" and (h % 2 or w % 2):
                    raise FeatureError(
                        f"LeRobotDataset.create: video feature {name!r} has odd size {w}x{h}; yuv420p needs even width and height"
                    )
        all_features = {**user, **{k: dict(v) for k, v in DEFAULT_FEATURES.items()}}
        has_video = any(ft["dtype"] == "video" for ft in all_features.values())
        info = {
            "codebase_version": CODEBASE_VERSION,
            "robot_type": robot_type,
            "total_episodes": 0,
            "total_frames": 0,
            "total_tasks": 0,
            "chunks_size": chunks_size,
            "data_files_size_in_mb": data_files_size_in_mb,
            "video_files_size_in_mb": video_files_size_in_mb,
            "fps": fps,
            "splits": {},
            "data_path": DEFAULT_DATA_PATH,
            "video_path": DEFAULT_VIDEO_PATH if has_video else None,
            "features": all_features,
        }
        root.mkdir(parents=True, exist_ok=True)
        write_json_atomic(info, root / INFO_PATH)
        options = {"g": g, "crf": crf, "preset": preset}
        writer = cls(
            repo_id,
            root,
            resumed=False,
            vcodec=vcodec,
            encoder_options=options,
            image_writer_threads=image_writer_threads,
        )
        writer.video_when_full = video_when_full
        writer._encoders.open_next()
        return writer

    @classmethod
    def resume(
        cls, repo_id: str, root: str | Path, vcodec: str | None = None, image_writer_threads: int = 0, **options
    ) -> DatasetWriter:
        root = Path(root).expanduser()
        if not (root / INFO_PATH).exists():
            raise DatasetFormatError(
                f"{root / INFO_PATH}: not found; resume needs an existing dataset (use LeRobotDataset.create for a new one)"
            )
        meta = LeRobotDatasetMetadata(repo_id, root, download=False)
        enc = {}
        for key in meta.video_keys:
            info = meta.features[key].get("info") or {}
            enc = {"g": info.get("video.g", 2), "crf": info.get("video.crf"), "preset": info.get("video.preset")}
            if vcodec is None:
                vcodec = {"av1": "libsvtav1", "h264": "libx264"}.get(info.get("video.codec"), "libsvtav1")
            break
        enc.update({k: v for k, v in options.items() if k in ("g", "crf", "preset")})
        writer = cls(
            repo_id,
            root,
            resumed=True,
            vcodec=vcodec or "libsvtav1",
            encoder_options=enc,
            image_writer_threads=image_writer_threads,
        )
        writer._repair_after_crash()
        writer._encoders.open_next()
        return writer

    def _load_existing_stats(self) -> None:
        table = load_episodes_table(self.root, with_stats=True)
        if table is None:
            return
        stat_cols = [c for c in table.column_names if c.startswith("stats/")]
        rows = table.select(stat_cols).to_pylist()
        self._episode_stats = [stats_lib.unflatten_stats_columns(r) for r in rows]

    def _repair_after_crash(self) -> None:
        """Drop what a killed session wrote but never committed: rows past the last episode, staging files."""
        shutil.rmtree(self.root / STAGING_DIR, ignore_errors=True)
        for tmp in self.root.rglob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        meta = self.meta
        n = meta.total_episodes
        if n == 0:
            return
        last = n - 1
        path = meta.data_file(
            int(meta.episode_columns["data/chunk_index"][last]), int(meta.episode_columns["data/file_index"][last])
        )
        groups = read_row_groups(path)
        index = pa.concat_tables(groups).column("index").to_numpy() if groups else np.zeros(0)
        keep = index < meta.total_frames
        if not keep.all():
            logger.warning(
                "%s: removing %d uncommitted rows left by an interrupted recording", path, int((~keep).sum())
            )
            kept = [g.filter(pa.array(g.column("index").to_numpy() < meta.total_frames)) for g in groups]
            write_parquet_atomic([g for g in kept if g.num_rows], path, self._schema)

    # --- recording -----------------------------------------------------------------------------
    def has_pending_frames(self) -> bool:
        return self.buffer is not None and self.buffer.size > 0

    def add_frame(self, frame: dict) -> None:
        """Validate and buffer one frame. Cameras are handed to their background encoder immediately.

        `frame` holds every user feature plus `task` (str). Images may be HWC or CHW, uint8 or float
        in [0, 1]. Raises FeatureError naming the feature on any mismatch.
        """
        if self._finalized:
            raise DatasetError("add_frame after finalize(); open the dataset with LeRobotDataset.resume to record more")
        features = self.meta.features
        check_frame_keys(frame, features)
        fps = self.meta.fps
        buf = self.buffer or EpisodeBuffer()
        frame_index = buf.size
        if (
            "timestamp" in frame
            and abs(float(np.asarray(frame["timestamp"]).reshape(-1)[0]) - frame_index / fps) > 1e-4
        ):
            raise FeatureError(
                "add_frame: 'timestamp' is frame_index / fps in this format (decoding relies on it); store measured "
                "capture times in a separate float feature such as 'observation.capture_time'"
            )
        converted = {}
        for name, ft in features.items():  # convert everything before touching the buffer
            if name in DEFAULT_FEATURES:
                continue
            if ft["dtype"] in ("image", "video"):
                converted[name] = to_hwc_uint8(name, frame[name], ft)
            elif ft["dtype"] in ("string", "language"):
                converted[name] = str(frame[name])
            else:
                converted[name] = to_numeric(name, frame[name], ft)
        self.buffer = buf
        for name, value in converted.items():
            ft = features[name]
            if ft["dtype"] == "video":
                if name not in buf.encoders:
                    buf.encoders[name], buf.image_stats[name] = self._encoders.take(name)
                buf.encoders[name].add_frame(value)
            elif ft["dtype"] == "image":
                self._add_image_stats(buf, name, value)
                png = self._pool.submit(encode_png, value) if self._pool else encode_png(value)
                buf.values.setdefault(name, []).append(png)
            else:
                buf.values.setdefault(name, []).append(value)
        buf.tasks.append(frame["task"])
        buf.size += 1

    def _add_image_stats(self, buf: EpisodeBuffer, key: str, frame: np.ndarray) -> None:
        # Image (PNG) cameras: a thumbnail copy here, the histogram work on the stats thread. Video
        # cameras' stats are taken in their encoder thread instead, from the frame it already holds.
        thumbnail = np.array(stats_lib.downsample_for_stats(frame))
        acc = buf.image_stats.setdefault(key, stats_lib.ImageStatsAccumulator())
        self._stats_worker.submit(acc.add, thumbnail)

    def _new_encoder(self, key: str, on_frame=None, frame_shape=None):
        from robotlearn.datasets.video import VideoEncoder

        episode = self.meta.total_episodes
        path = self.root / STAGING_DIR / key / f"episode-{episode:06d}-{os.getpid()}-{time.monotonic_ns()}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        opts = {k: v for k, v in self.encoder_options.items() if v is not None}
        return VideoEncoder(
            path,
            self.meta.fps,
            vcodec=self.vcodec,
            spill_dir=path.parent / (path.stem + "-spill"),
            when_full=self.video_when_full,
            on_frame=on_frame,
            frame_shape=frame_shape,
            **opts,
        )

    def clear_episode_buffer(self) -> None:
        """Discard the episode in progress; stop its encoders and delete their partial files."""
        if self.buffer is not None:
            self._discard_buffer()
            if not self._finalized:
                self._encoders.open_next()

    def _discard_buffer(self) -> None:
        if self.buffer is not None:
            for enc in self.buffer.encoders.values():
                enc.abort()
        self.buffer = None

    def save_episode(self) -> int:
        """Write the buffered episode; returns its index. Durable (and readable by anyone) when it returns;
        meta/stats.json, derived from the episodes table, follows in the background within ~0.3 ms per episode
        (`meta.stats`, the next save and `finalize()` wait for it)."""
        buf = self.buffer
        if buf is None or buf.size == 0:
            raise DatasetError("save_episode: no frames were added since the last save; call add_frame first")
        meta = self.meta
        features = meta.features
        fps = meta.fps
        episode_index = meta.total_episodes
        start = meta.total_frames
        n = buf.size
        for enc in buf.encoders.values():  # flush them all at once, and while the rows are written
            enc.finish()

        # 1. tasks (appending new ones is harmless if we die before the commit)
        tasks = list(meta.tasks)
        for t in buf.tasks:
            if t not in tasks:
                tasks.append(t)
        if tasks != meta.tasks:
            write_tasks(tasks, self.root)
        task_ids = {t: i for i, t in enumerate(tasks)}

        # 2. the episode's table
        columns: dict[str, np.ndarray | list] = {}
        for name, ft in features.items():
            if ft["dtype"] == "video" or name in DEFAULT_FEATURES:
                continue
            values = buf.values[name]
            if ft["dtype"] == "image":
                pngs = [v.result() if isinstance(v, Future) else v for v in values]
                columns[name] = [{"bytes": b, "path": f"frame-{i:06d}.png"} for i, b in enumerate(pngs)]
            elif ft["dtype"] in ("string", "language"):
                columns[name] = values
            else:
                columns[name] = np.stack(values)
        columns["timestamp"] = (np.arange(n, dtype=np.float64) / fps).astype(np.float32)
        columns["frame_index"] = np.arange(n, dtype=np.int64)
        columns["episode_index"] = np.full(n, episode_index, dtype=np.int64)
        columns["index"] = np.arange(start, start + n, dtype=np.int64)
        columns["task_index"] = np.array([task_ids[t] for t in buf.tasks], dtype=np.int64)
        table = self._episode_table(columns)
        data_chunk, data_file = self._append_data(table)

        # 3. videos
        video_cols: dict[str, object] = {}
        for key in meta.video_keys:
            enc = buf.encoders.get(key)
            enc.close()
            if enc.frames_written != n:
                raise DatasetError(
                    f"save_episode: video {key!r} holds {enc.frames_written} frames but the episode has {n}"
                )
            chunk, file, from_ts, to_ts = self._append_video(key, Path(enc.path), n)
            video_cols.update(
                {
                    f"videos/{key}/chunk_index": chunk,
                    f"videos/{key}/file_index": file,
                    f"videos/{key}/from_timestamp": from_ts,
                    f"videos/{key}/to_timestamp": to_ts,
                }
            )

        # 4. stats, then the commit: the episodes table
        numeric = {
            k: v for k, v in columns.items() if features[k]["dtype"] not in ("image", "video", "string", "language")
        }
        ep_stats = stats_lib.compute_episode_stats(numeric, features)
        self._stats_worker.submit(lambda: None).result()  # one worker, FIFO: every add above is done
        for key, acc in buf.image_stats.items():
            ep_stats[key] = acc.result(n)
        ep_stats = {k: ep_stats[k] for k in features if k in ep_stats}
        row = {
            "episode_index": episode_index,
            "tasks": sorted(set(buf.tasks), key=buf.tasks.index),
            "length": n,
            "data/chunk_index": data_chunk,
            "data/file_index": data_file,
            "dataset_from_index": start,
            "dataset_to_index": start + n,
            **video_cols,
        }
        row_table = self._append_episode_row(row, ep_stats)

        # 5. derived files: info.json and stats.json
        self._episode_stats.append(ep_stats)
        info = dict(meta.info)
        info["total_episodes"] = episode_index + 1
        info["total_frames"] = start + n
        info["total_tasks"] = len(tasks)
        info["splits"] = {"train": f"0:{episode_index + 1}"}
        if episode_index == 0 or any("info" not in features[k] for k in meta.video_keys):
            self._fill_video_info(info)
        write_json_atomic(info, self.root / INFO_PATH)
        # stats.json in the background: aggregating every episode's statistics takes ~0.3 ms per episode
        # (0.17 s at 500 episodes with 3 cameras). Like info.json it is derived from the episodes table;
        # meta.stats, the next save_episode and finalize() wait for it.
        self._check_stats_written()
        self._stats_written = self._stats_worker.submit(self._write_stats, list(self._episode_stats))

        self.buffer = None
        # What was just written, without reading every metadata file back (~30-50 ms per save, more as the
        # episodes table grows).
        self.meta.add_saved_episode(info, tasks, self._stats_written, row_table)
        self._encoders.open_next()  # the next episode's, while the caller resets the scene
        if self.on_episode_saved is not None:
            self.on_episode_saved()
        return episode_index

    def _episode_table(self, columns: dict) -> pa.Table:
        arrays = []
        for field in self._schema:
            values = columns[field.name]
            if isinstance(values, np.ndarray) and list(self.meta.features[field.name]["shape"]) == [1]:
                values = values.reshape(-1)  # (1,) features are stored as scalars (FORMAT.md §4.2)
            if isinstance(values, np.ndarray) and values.ndim > 1:
                flat = pa.array(values.reshape(-1))
                arr = flat
                for dim in reversed(values.shape[1:]):
                    arr = pa.FixedSizeListArray.from_arrays(arr, dim)
                arrays.append(arr.cast(field.type))
            else:
                arrays.append(pa.array(values, type=field.type))
        return pa.Table.from_arrays(arrays, schema=self._schema)

    def _first_new_position(self, last: tuple[int, int] | None) -> tuple[int, int]:
        # A new session never appends to files written by an earlier one (FORMAT.md §8.1).
        return (0, 0) if last is None else next_chunk_file(*last, self.meta.chunks_size)

    def _last_data_position(self) -> tuple[int, int] | None:
        cols = self.meta.episode_columns
        if not self.meta.total_episodes:
            return None
        return int(cols["data/chunk_index"][-1]), int(cols["data/file_index"][-1])

    def _append_data(self, table: pa.Table) -> tuple[int, int]:
        limit = self.meta.info["data_files_size_in_mb"] * 2**20
        if self._data_pos is None:
            self._data_pos = self._first_new_position(self._last_data_position())
            self._data_groups = []
        else:
            path = self.meta.data_file(*self._data_pos)
            size = path.stat().st_size
            rows = sum(g.num_rows for g in self._data_groups)
            if size + size / max(rows, 1) * table.num_rows >= limit:
                self._data_pos = next_chunk_file(*self._data_pos, self.meta.chunks_size)
                self._data_groups = []
        path = self.meta.data_file(*self._data_pos)
        write_parquet_atomic(self._data_groups + [table], path, self._schema)
        self._data_groups.append(table)
        return self._data_pos

    def _append_video(self, key: str, episode_mp4: Path, n_frames: int) -> tuple[int, int, float, float]:
        from robotlearn.datasets.video import append_video, video_duration

        limit = self.meta.info["video_files_size_in_mb"] * 2**20
        pos = self._video_pos.get(key)
        duration = video_duration(episode_mp4)
        if pos is not None:
            dst = self.meta.video_file(key, *pos)
            if dst.stat().st_size + episode_mp4.stat().st_size < limit:
                from_ts = append_video(dst, episode_mp4)
                episode_mp4.unlink(missing_ok=True)
                return pos[0], pos[1], from_ts, from_ts + duration
            pos = next_chunk_file(*pos, self.meta.chunks_size)
        else:
            cols = self.meta.episode_columns
            last = None
            if self.meta.total_episodes:
                last = int(cols[f"videos/{key}/chunk_index"][-1]), int(cols[f"videos/{key}/file_index"][-1])
            pos = self._first_new_position(last)
        dst = self.meta.video_file(key, *pos)
        dst.parent.mkdir(parents=True, exist_ok=True)
        os.replace(episode_mp4, dst)
        fsync_dir(dst.parent)
        self._video_pos[key] = pos
        return pos[0], pos[1], 0.0, duration

    def _write_stats(self, episode_stats: list[dict]) -> dict:
        aggregated = stats_lib.aggregate_stats(episode_stats)
        stats_lib.write_stats_json(aggregated, self.root / STATS_PATH)
        return aggregated

    def _check_stats_written(self) -> None:
        """Raise what writing meta/stats.json after the last save raised (waiting for it to finish)."""
        if self._stats_written is not None:
            done, self._stats_written = self._stats_written, None
            done.result()

    def _append_episode_row(self, row: dict, ep_stats: dict) -> pa.Table:
        """Append the episode's row (with its stats columns) to the episodes table; returns that row."""
        stat_cols = stats_lib.flatten_stats_columns(ep_stats)
        limit = self.meta.info["data_files_size_in_mb"] * 2**20
        if self._episodes_pos is None:
            last = None
            if self.meta.total_episodes:
                table = load_episodes_table(self.root)
                last = (
                    int(table.column("meta/episodes/chunk_index")[-1].as_py()),
                    int(table.column("meta/episodes/file_index")[-1].as_py()),
                )
            self._episodes_pos = self._first_new_position(last)
            self._episodes_rows = []
        else:
            path = self.root / EPISODES_PATH.format(chunk_index=self._episodes_pos[0], file_index=self._episodes_pos[1])
            if path.stat().st_size * (1 + 1 / max(len(self._episodes_rows), 1)) >= limit:
                self._episodes_pos = next_chunk_file(*self._episodes_pos, self.meta.chunks_size)
                self._episodes_rows = []
        chunk, file = self._episodes_pos
        full = {**row, **stat_cols, "meta/episodes/chunk_index": chunk, "meta/episodes/file_index": file}
        arrays, fields = [], []
        for name, value in full.items():
            if name == "tasks":
                arr = pa.array([value], pa.list_(pa.string()))
            elif isinstance(value, float):
                arr = pa.array([value], pa.float64())
            elif isinstance(value, (int, np.integer)):
                arr = pa.array([int(value)], pa.int64())
            elif isinstance(value, np.ndarray):
                arr = pa.array([value.tolist()])
            else:
                arr = pa.array([value])
            arrays.append(arr)
            fields.append(pa.field(name, arr.type))
        table = pa.Table.from_arrays(arrays, schema=pa.schema(fields))
        rows = self._episodes_rows + [table]
        schema = table.schema
        path = self.root / EPISODES_PATH.format(chunk_index=chunk, file_index=file)
        write_parquet_atomic([pa.concat_tables(rows, promote_options="default")], path, schema)
        self._episodes_rows = rows
        return table

    def _fill_video_info(self, info: dict) -> None:
        from robotlearn.datasets.video import video_info

        features = {k: dict(v) for k, v in info["features"].items()}
        for key in self.meta.video_keys:
            path = self.meta.video_file(key, 0, 0)
            if not path.exists():
                path = self.meta.video_file(key, *self._video_pos[key])
            opts = {k: v for k, v in self.encoder_options.items()}
            opts["vcodec"] = self.vcodec
            features[key]["info"] = video_info(path, opts)
        info["features"] = features

    def finalize(self) -> None:
        """Stop background work and clean scratch files. Idempotent. Unsaved frames are discarded (with a warning)."""
        if self._finalized:
            return
        if self.has_pending_frames():
            logger.warning("finalize: discarding %d frames of an episode that was never saved", self.buffer.size)
        self._discard_buffer()
        self._encoders.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._stats_worker.shutdown(wait=True)
        shutil.rmtree(self.root / STAGING_DIR, ignore_errors=True)
        self._finalized = True
        self._check_stats_written()

    def __del__(self):
        try:
            if not self._finalized:
                self._discard_buffer()
                self._encoders.close()
        except Exception:
            pass
