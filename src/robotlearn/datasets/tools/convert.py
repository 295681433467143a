"""`convert_v21`: a LeRobotDataset v2.1 folder to v3.0 (FORMAT.md §16), without re-encoding.

v2.1 keeps one Parquet file and one MP4 per episode, `meta/episodes.jsonl`, `meta/tasks.jsonl` and
`meta/episodes_stats.jsonl`. The conversion packs episodes into v3.0 files through the same builder
as merge (rows copied, MP4 packets remuxed, so samples are unchanged), derives row ranges and
video offsets, and writes the episodes table, tasks.parquet, info.json and stats.json.

Where we differ from the reference converter (lerobot's convert_dataset_v21_to_v30), on purpose:
visual features with `names: null` get ["height", "width", "channels"], and an episode whose
stats lack a feature (old datasets without image stats) gets them computed from its frames, so
the output trains without the crashes of huggingface/lerobot#3786.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from robotlearn.datasets import stats as stats_lib
from robotlearn.datasets.errors import DatasetFormatError
from robotlearn.datasets.features import DEFAULT_FEATURES, decode_png, validate_features
from robotlearn.datasets.metadata import (
    DEFAULT_CHUNKS_SIZE,
    DEFAULT_DATA_FILE_SIZE_MB,
    DEFAULT_VIDEO_FILE_SIZE_MB,
    INFO_PATH,
    read_json,
    resolve_in_root,
)
from robotlearn.datasets.tools.build import DatasetBuilder, SourceEpisode, VideoSlice
from robotlearn.datasets.tools.common import ToolResult, resolve_output, write_atomically


def _jsonl(path: Path, what: str) -> list[dict]:
    if not path.is_file():
        raise DatasetFormatError(f"{path}: {what} file not found (a v2.1 dataset has meta/{path.name})")
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise DatasetFormatError(f"{path}: line {n} is not JSON: {e.msg}") from None
        if not isinstance(row, dict):
            raise DatasetFormatError(f"{path}: line {n} must be a JSON object")
        rows.append(row)
    return rows


class V21Dataset:
    """A v2.1 folder read for conversion: info, tasks, episodes, per-episode stats and file paths."""

    def __init__(self, root: str | Path):
        self.root = Path(root).expanduser()
        if not (self.root / INFO_PATH).is_file():
            what = "the folder does not exist" if not self.root.exists() else "it has no meta/info.json"
            raise DatasetFormatError(
                f"No dataset at {self.root} ({what}): pass --root pointing to a v2.1 dataset folder"
            )
        info = read_json(self.root / INFO_PATH)
        version = info.get("codebase_version") if isinstance(info, dict) else None
        if version != "v2.1":
            hint = (
                " (already v3: nothing to convert)"
                if str(version).startswith("v3")
                else " (v2.0 datasets need lerobot's v2.0 -> v2.1 step first)"
                if version == "v2.0"
                else ""
            )
            raise DatasetFormatError(
                f"{self.root / INFO_PATH}: codebase_version is {version!r}; convert reads v2.1{hint}"
            )
        for key in ("fps", "features", "data_path", "chunks_size"):
            if key not in info:
                raise DatasetFormatError(f"{self.root / INFO_PATH}: missing field {key!r}")
        fps = info["fps"]
        if isinstance(fps, float) and fps.is_integer():
            info["fps"] = int(fps)
        if not isinstance(info["fps"], int) or info["fps"] <= 0:
            raise DatasetFormatError(f"{self.root / INFO_PATH}: fps must be a positive integer, got {fps!r}")
        try:
            features = validate_features(info["features"], where=f"{self.root / INFO_PATH}: features")
        except Exception as e:
            raise DatasetFormatError(str(e)) from None
        for ft in features.values():
            if ft["dtype"] in ("image", "video") and not ft.get("names"):
                ft["names"] = ["height", "width", "channels"]
        self.info = info
        self.features = features
        tasks = _jsonl(self.root / "meta/tasks.jsonl", "tasks")
        try:
            tasks = sorted(tasks, key=lambda r: int(r["task_index"]))
            self.tasks = [str(r["task"]) for r in tasks]
        except (KeyError, TypeError, ValueError) as e:
            raise DatasetFormatError(
                f"{self.root / 'meta/tasks.jsonl'}: each line needs task_index and task ({e!r})"
            ) from None
        if [int(r["task_index"]) for r in tasks] != list(range(len(tasks))):
            raise DatasetFormatError(f"{self.root / 'meta/tasks.jsonl'}: task_index must run 0..{len(tasks) - 1}")
        eps = _jsonl(self.root / "meta/episodes.jsonl", "episodes")
        try:
            eps = sorted(eps, key=lambda r: int(r["episode_index"]))
            self.lengths = [int(r["length"]) for r in eps]
        except (KeyError, TypeError, ValueError) as e:
            raise DatasetFormatError(
                f"{self.root / 'meta/episodes.jsonl'}: each line needs episode_index and length ({e!r})"
            ) from None
        if [int(r["episode_index"]) for r in eps] != list(range(len(eps))):
            raise DatasetFormatError(f"{self.root / 'meta/episodes.jsonl'}: episode_index must run 0..{len(eps) - 1}")
        if not eps:
            raise DatasetFormatError(f"{self.root / 'meta/episodes.jsonl'}: no episodes")
        self.stats: dict[int, dict] = {}
        stats_path = self.root / "meta/episodes_stats.jsonl"
        if stats_path.is_file():
            for row in _jsonl(stats_path, "episode stats"):
                try:
                    self.stats[int(row["episode_index"])] = stats_lib.cast_stats_to_numpy(row["stats"])
                except (KeyError, TypeError, ValueError) as e:
                    raise DatasetFormatError(
                        f"{stats_path}: malformed line for episode {row.get('episode_index')}: {e}"
                    ) from None
        self.video_keys = [k for k, ft in features.items() if ft["dtype"] == "video"]
        if self.video_keys and not info.get("video_path"):
            raise DatasetFormatError(f"{self.root / INFO_PATH}: video features but no video_path")

    def _path(self, field: str, ep: int, **kw) -> Path:
        chunk = ep // int(self.info["chunks_size"])
        try:
            rel = self.info[field].format(episode_chunk=chunk, episode_index=ep, **kw)
        except (KeyError, IndexError, ValueError) as e:
            raise DatasetFormatError(
                f"{self.root / INFO_PATH}: template {field}={self.info[field]!r} cannot be formatted: {e!r}"
            ) from None
        return resolve_in_root(self.root, rel, field)

    def episode(self, ep: int, start: int) -> SourceEpisode:
        from robotlearn.datasets.video_encode import video_duration

        path = self._path("data_path", ep)

        def rows() -> pa.Table:
            if not path.is_file():
                raise DatasetFormatError(f"{path}: data file of episode {ep} not found")
            try:
                table = pq.read_table(path)
            except (pa.ArrowException, OSError) as e:
                raise DatasetFormatError(f"{path}: cannot read (truncated or not Parquet?): {e}") from None
            for name in ("index", "frame_index", "timestamp", "task_index"):
                if name not in table.column_names:
                    raise DatasetFormatError(f"{path}: missing column {name!r}")
            ts = table.column("timestamp").to_numpy().astype(np.float64)
            fi = table.column("frame_index").to_numpy()
            if not np.array_equal(fi, np.arange(len(fi))) or np.any(np.abs(ts - fi / self.info["fps"]) > 1e-4):
                raise DatasetFormatError(f"{path}: frame_index/timestamp do not run 0, 1/fps, 2/fps, ...")
            return table

        videos = {}
        for key in self.video_keys:
            vpath = self._path("video_path", ep, video_key=key)
            videos[key] = VideoSlice(vpath, 0.0, video_duration(vpath))
        return SourceEpisode(
            self, ep, self.lengths[ep], rows, videos, self.stats.get(ep, {}), self.tasks, label=f"{path} (episode {ep})"
        )

    def v3_info(self) -> dict:
        info = {k: v for k, v in self.info.items() if k not in ("total_chunks", "total_videos")}
        info.setdefault("chunks_size", DEFAULT_CHUNKS_SIZE)
        info["chunks_size"] = DEFAULT_CHUNKS_SIZE  # v2.1 counts episodes per chunk, v3.0 files per chunk
        info.setdefault("data_files_size_in_mb", DEFAULT_DATA_FILE_SIZE_MB)
        info.setdefault("video_files_size_in_mb", DEFAULT_VIDEO_FILE_SIZE_MB)
        return info


def _missing_stats(ep: SourceEpisode, features: dict) -> dict:
    """Stats the v2.1 file lacks for this episode, computed from its rows and frames."""
    from robotlearn.datasets.table import column_to_numpy
    from robotlearn.datasets.tools.remux import decode_all

    missing = [
        k
        for k, ft in features.items()
        if k not in ep.stats and ft["dtype"] not in ("string", "language") and k not in DEFAULT_FEATURES
    ]
    if not missing:
        return {}
    table = ep.rows()
    data = {}
    idx = stats_lib.sample_indices(table.num_rows)
    for key in missing:
        ft = features[key]
        if ft["dtype"] == "video":
            frames = [f for _, f in decode_all(ep.videos[key].path)]
            data[key] = np.stack([stats_lib.downsample_for_stats(frames[i]) for i in idx])
        elif ft["dtype"] == "image":
            col = table.column(key).to_pylist()
            data[key] = np.stack([stats_lib.downsample_for_stats(decode_png(col[i]["bytes"], key)) for i in idx])
        else:
            data[key] = column_to_numpy(table.column(key), ft, Path(ep.label), key)
    return stats_lib.compute_episode_stats(data, features)


def convert_v21(
    root: str | Path,
    output: str | Path | None = None,
    in_place: bool = False,
    dry_run: bool = False,
    progress: bool = False,
) -> ToolResult:
    """Convert the v2.1 dataset at `root` to v3.0 in `output` (or in place, swapped atomically).

    Raises DatasetFormatError naming the file for a malformed input (nothing is written)."""
    src = V21Dataset(root)
    target = resolve_output(src.root, output, in_place, "convert")
    n = len(src.lengths)
    result = ToolResult("convert", str(target), dry_run, details={"episodes": n, "frames": sum(src.lengths)})
    result.lines.append(
        f"convert v2.1 -> v3.0: {n} episodes, {sum(src.lengths)} frames, {len(src.video_keys)} camera video(s) "
        f"({n * len(src.video_keys)} MP4s remuxed, none re-encoded) -> {target}"
    )
    if dry_run:
        return result

    def build(out: Path) -> None:
        b = DatasetBuilder(out, src.v3_info(), src.features, tasks=src.tasks)
        start = 0
        for ep in tqdm(range(n), desc="convert", disable=not progress):
            episode = src.episode(ep, start)
            episode.extra["stats"] = _missing_stats(episode, src.features)
            b.add(episode)
            start += src.lengths[ep]
        b.finish()

    write_atomically(target, in_place, build)
    return result
