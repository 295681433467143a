"""The dataset doctor: check every rule of the v3.0 format, every file, pointer and timestamp.

`validate(root)` never writes and never raises for a broken dataset: it returns a `Report` whose
problems each name the file, the field and what is wrong (and, where `repair` can fix it, how).
It raises DatasetFormatError only when `root` holds no dataset at all.

Shallow (default): info.json fields; path templates and symlinks stay inside the root; no special
files (a FIFO or device is reported, never opened); tasks; the episodes table (indices, row ranges,
task names); each data file's footer, schema against the features, row count, and its bookkeeping
columns (index, episode_index, frame_index, task_index, timestamps = frame_index / fps); each video's
header (codec, size, fps against info.json) and packet timestamps (count per episode, key frame at
each episode start, no overlap, inside the file); stats.json; orphan and leftover files.
Deep (`deep=True`) also reads every column (shapes, image bytes) and decodes every video frame.
"""

from __future__ import annotations

import json
import math
import os
import stat as stat_mod
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from robotlearn.datasets.errors import DatasetError, DatasetFormatError
from robotlearn.datasets.features import arrow_type
from robotlearn.datasets.metadata import (
    EPISODES_DIR,
    INFO_PATH,
    STATS_PATH,
    TASKS_PATH,
    resolve_in_root,
    validate_info,
)

MAX_JSON_BYTES = 64 * 2**20
TS_TOLERANCE_S = 1e-4


@dataclass
class Problem:
    file: str
    message: str
    field: str | None = None
    fix: str | None = None  # what `repair` does about it: leftover, orphan, totals, stats, tail


@dataclass
class Report:
    root: str
    deep: bool
    problems: list[Problem] = field(default_factory=list)
    checked: dict = field(default_factory=lambda: defaultdict(int))
    task_names: list[str] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, file, message: str, field: str | None = None, fix: str | None = None) -> None:
        message = message.removeprefix(f"{file}: ")  # errors raised by the readers already name the file
        self.problems.append(Problem(str(file), message, field, fix))

    def to_dict(self) -> dict:
        return {
            "root": self.root,
            "ok": self.ok,
            "deep": self.deep,
            "checked": dict(self.checked),
            "problems": [asdict(p) for p in self.problems],
        }

    def lines(self) -> list[str]:
        out = [
            f"{p.file}: {p.message}"
            + (f" [field {p.field}]" if p.field else "")
            + (f" (repairable: {p.fix})" if p.fix else "")
            for p in self.problems
        ]
        return out


class _Stop(Exception):
    """Nothing further can be checked (e.g. info.json is unusable)."""


def _safe_file(report: Report, root: Path, rel: str, what: str, required: bool = True) -> Path | None:
    """The path of `rel` if it is a regular file inside the root; else a problem and None (never opens it)."""
    path = root / rel
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        if required:
            report.add(path, f"{what} file not found")
        return None
    except OSError as e:
        report.add(path, f"cannot stat {what} file: {e}")
        return None
    if stat_mod.S_ISLNK(st.st_mode):
        real = Path(os.path.realpath(path))
        base = Path(os.path.realpath(root))
        if base not in real.parents:
            report.add(path, f"{what} file is a symlink to {real}, outside the dataset root")
            return None
        try:
            st = os.stat(path)
        except OSError as e:
            report.add(path, f"{what} file is a broken symlink: {e}")
            return None
    if not stat_mod.S_ISREG(st.st_mode):
        kind = (
            "a FIFO"
            if stat_mod.S_ISFIFO(st.st_mode)
            else "a directory"
            if stat_mod.S_ISDIR(st.st_mode)
            else "not a regular file"
        )
        report.add(path, f"{what} file is {kind}; expected a regular file")
        return None
    for parent in path.relative_to(root).parents:  # a symlinked folder leaving the root
        if (
            str(parent) != "."
            and (root / parent).is_symlink()
            and Path(os.path.realpath(root)) not in Path(os.path.realpath(root / parent)).parents
        ):
            report.add(path, f"folder {parent} is a symlink leaving the dataset root")
            return None
    return path


def _inside(root: Path, rel: str, field: str) -> None:
    """Refuse a path that leaves the root by its text (absolute, ".."); symlinks are `_safe_file`'s to report."""
    import posixpath

    norm = posixpath.normpath(rel.replace("\\", "/"))
    if os.path.isabs(rel) or rel.startswith("~") or norm == ".." or norm.startswith("../"):
        resolve_in_root(root, rel, field)  # raises the metadata reader's error
        raise DatasetFormatError(f"field {field!r} gives {rel!r}, outside the dataset root")


def _read_json(report: Report, root: Path, rel: str, what: str, required: bool = True):
    path = _safe_file(report, root, rel, what, required)
    if path is None:
        return None
    if path.stat().st_size > MAX_JSON_BYTES:
        report.add(path, f"{what} is {path.stat().st_size} bytes, larger than any valid one ({MAX_JSON_BYTES})")
        return None
    try:
        return json.loads(path.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        report.add(path, f"invalid JSON: {e}")
        return None


def _parquet(report: Report, path: Path, what: str) -> pq.ParquetFile | None:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        report.add(path, f"cannot read {what} (truncated or not Parquet?): {' '.join(str(e).split())[:300]}")
        return None


def _check_info(report: Report, root: Path) -> dict:
    raw = _read_json(report, root, INFO_PATH, "info")
    if raw is None:
        raise _Stop
    if (
        isinstance(raw, dict)
        and isinstance(raw.get("codebase_version"), str)
        and raw["codebase_version"].startswith("v2")
    ):
        report.add(
            root / INFO_PATH,
            f"codebase_version is {raw['codebase_version']!r}: this is a LeRobotDataset v2.x; "
            f"convert it with `robotlearn dataset convert --root={root} --output=<new folder>`",
            "codebase_version",
        )
        raise _Stop
    try:
        info = validate_info(raw, root / INFO_PATH)
    except (DatasetFormatError, TypeError, ValueError, AttributeError) as e:
        report.add(root / INFO_PATH, str(e))
        raise _Stop from None
    for name, ft in info["features"].items():
        if ft["dtype"] == "video":
            vi = ft.get("info") or {}
            h, w = ft["shape"][0], ft["shape"][1]
            if (
                vi
                and (vi.get("video.height"), vi.get("video.width")) != (h, w)
                and (vi.get("video.height") is not None)
            ):
                report.add(
                    root / INFO_PATH,
                    f"feature {name!r}: shape {ft['shape']} but info says "
                    f"{vi.get('video.height')}x{vi.get('video.width')}",
                    f"features.{name}.info",
                )
            if vi.get("video.fps") not in (None, info["fps"]):
                report.add(
                    root / INFO_PATH,
                    f"feature {name!r}: video.fps {vi.get('video.fps')} but the dataset fps is {info['fps']}",
                    f"features.{name}.info.video.fps",
                )
    for key in ("data_path", "video_path"):
        template = info.get(key)
        if template:
            try:
                sample = template.format(video_key="k", chunk_index=0, file_index=0)
                _inside(root, sample, key)
            except (KeyError, IndexError, ValueError) as e:
                report.add(root / INFO_PATH, f"template {template!r} cannot be formatted: {e!r}", key)
                raise _Stop from None
            except DatasetFormatError as e:
                report.add(root / INFO_PATH, str(e), key)
                raise _Stop from None
    return info


def _check_tasks(report: Report, root: Path) -> list[str] | None:
    path = _safe_file(report, root, TASKS_PATH, "tasks", required=True)
    if path is None:
        return None
    pf = _parquet(report, path, "tasks")
    if pf is None:
        return None
    try:
        t = pf.read()
    except (pa.ArrowException, OSError) as e:
        report.add(path, f"cannot read tasks: {e}")
        return None
    if "task_index" not in t.column_names or "task" not in t.column_names:
        report.add(path, f"expected columns 'task' and 'task_index', found {t.column_names}")
        return None
    try:
        idx = [int(v) for v in t.column("task_index").to_pylist()]
        names = [str(v) for v in t.column("task").to_pylist()]
    except (TypeError, ValueError) as e:
        report.add(path, f"task_index must hold integers: {e}", "task_index")
        return None
    if sorted(idx) != list(range(len(idx))):
        report.add(
            path, f"task_index values must be 0..{len(idx) - 1} without gaps, got {sorted(idx)[:20]}", "task_index"
        )
        return None
    if len(set(names)) != len(names):
        report.add(path, "the same task string appears twice", "task")
    order = np.argsort(idx)
    return [names[i] for i in order]


REQUIRED_EPISODE_COLUMNS = (
    "episode_index",
    "length",
    "dataset_from_index",
    "dataset_to_index",
    "data/chunk_index",
    "data/file_index",
)


def _check_episodes(report: Report, root: Path, info: dict, tasks: list[str] | None) -> dict | None:
    base = root / EPISODES_DIR
    files = sorted(base.glob("chunk-*/file-*.parquet")) if base.is_dir() and not base.is_symlink() else []
    if base.is_symlink():
        report.add(base, "meta/episodes is a symlink; expected a folder inside the dataset")
        return None
    if not files:
        if info["total_episodes"]:
            report.add(
                base, f"no episode metadata files but info.json says {info['total_episodes']} episodes", fix=None
            )
        return {}
    tables = []
    for path in files:
        path = _safe_file(report, root, str(path.relative_to(root)), "episodes metadata")
        if path is None:
            return None
        pf = _parquet(report, path, "episodes metadata")
        if pf is None:
            return None
        try:
            cols = [c for c in pf.schema_arrow.names if not c.startswith("stats/")]
            tables.append(pf.read(columns=cols))
        except (pa.ArrowException, OSError) as e:
            report.add(path, f"cannot read episodes metadata: {e}")
            return None
    try:
        table = pa.concat_tables(tables, promote_options="default")
    except pa.ArrowException as e:
        report.add(base, f"episode files have incompatible columns: {e}")
        return None
    video_keys = [k for k, ft in info["features"].items() if ft["dtype"] == "video"]
    required = list(REQUIRED_EPISODE_COLUMNS) + [
        f"videos/{k}/{c}" for k in video_keys for c in ("chunk_index", "file_index", "from_timestamp", "to_timestamp")
    ]
    missing = [c for c in required if c not in table.column_names]
    if missing:
        report.add(base, f"episodes table lacks columns {missing}")
        return None
    cols = {}
    for c in required:
        kind = "float" if c.endswith("_timestamp") else "int"
        try:
            arr = np.asarray(table.column(c).to_numpy(zero_copy_only=False), dtype=np.float64)
        except (pa.ArrowException, TypeError, ValueError) as e:
            report.add(base, f"column {c!r} must hold numbers: {e}", c)
            return None
        if not np.all(np.isfinite(arr)):
            report.add(base, f"column {c!r} holds missing (null), NaN or infinite values", c)
            return None
        if kind == "int" and np.any(arr != np.round(arr)):
            report.add(base, f"column {c!r} must hold integers", c)
            return None
        cols[c] = arr.astype(np.int64) if kind == "int" else arr
    n = table.num_rows
    report.checked["episodes"] = n
    ep = cols["episode_index"]
    if not np.array_equal(ep, np.arange(n)):
        bad = int(np.argmax(ep != np.arange(n)))
        report.add(base, f"episode_index must run 0..{n - 1} in order; row {bad} holds {int(ep[bad])}", "episode_index")
        return None
    start, end, length = cols["dataset_from_index"], cols["dataset_to_index"], cols["length"]
    ok = True
    if np.any(length <= 0):
        report.add(base, f"episodes {np.nonzero(length <= 0)[0].tolist()[:10]} have length <= 0", "length")
        ok = False
    if np.any(end - start != length):
        bad = np.nonzero(end - start != length)[0].tolist()[:10]
        report.add(base, f"episodes {bad}: dataset_to_index - dataset_from_index != length", "dataset_to_index")
        ok = False
    if n and (start[0] != 0 or np.any(start[1:] != end[:-1])):
        bad = [0] if start[0] != 0 else (np.nonzero(start[1:] != end[:-1])[0] + 1).tolist()[:10]
        report.add(
            base,
            f"episodes {bad}: row ranges overlap or leave gaps (dataset_from_index must equal the previous "
            "episode's dataset_to_index, starting at 0)",
            "dataset_from_index",
        )
        ok = False
    if "tasks" in table.column_names and tasks is not None:
        known = set(tasks)
        for i, ts in enumerate(table.column("tasks").to_pylist()):
            unknown = [t for t in (ts or []) if t not in known]
            if unknown:
                report.add(base, f"episode {i} lists tasks {unknown} missing from meta/tasks.parquet", "tasks")
                break
    total_frames = int(end[-1]) if n else 0
    if ok and (info["total_episodes"] != n or info["total_frames"] != total_frames):
        report.add(
            root / INFO_PATH,
            f"total_episodes/total_frames are {info['total_episodes']}/{info['total_frames']} "
            f"but the episodes table holds {n}/{total_frames}",
            "total_episodes",
            fix="totals",
        )
    if tasks is not None and info.get("total_tasks") not in (None, len(tasks)):
        report.add(
            root / INFO_PATH,
            f"total_tasks is {info['total_tasks']} but meta/tasks.parquet holds {len(tasks)}",
            "total_tasks",
            fix="totals",
        )
    cols["tasks"] = table.column("tasks").to_pylist() if "tasks" in table.column_names else [None] * n
    cols["_ok"] = ok
    return cols


def _schema_problems(schema: pa.Schema, features: dict) -> list[str]:
    out = []
    for name, ft in features.items():
        if ft["dtype"] == "video":
            continue
        if name not in schema.names:
            out.append(f"column {name!r} declared in info.json features is missing")
            continue
        got = schema.field(name).type
        want = arrow_type(ft)
        if got == want:
            continue
        if ft["dtype"] == "image":
            if not (pa.types.is_struct(got) and got.get_field_index("bytes") >= 0):
                out.append(f"column {name!r} is {got}, expected an image struct with 'bytes'")
            continue
        flat_got, flat_want, dims_got, dims_want = got, want, [], []
        while pa.types.is_list(flat_got) or pa.types.is_fixed_size_list(flat_got) or pa.types.is_large_list(flat_got):
            dims_got.append(getattr(flat_got, "list_size", -1))
            flat_got = flat_got.value_type
        while pa.types.is_fixed_size_list(flat_want) or pa.types.is_list(flat_want):
            dims_want.append(getattr(flat_want, "list_size", -1))
            flat_want = flat_want.value_type
        if flat_got != flat_want and not (pa.types.is_floating(flat_got) and pa.types.is_floating(flat_want)):
            out.append(f"column {name!r} holds {flat_got} but info.json declares dtype {ft['dtype']}")
        elif len(dims_got) != len(dims_want) or any(g not in (-1, w) for g, w in zip(dims_got, dims_want)):
            out.append(f"column {name!r} has type {got} but info.json declares shape {ft['shape']}")
    return out


def _check_data(report: Report, root: Path, info: dict, eps: dict, deep: bool, progress) -> set[Path]:
    fps = info["fps"]
    features = info["features"]
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, key in enumerate(zip(eps["data/chunk_index"].tolist(), eps["data/file_index"].tolist())):
        groups[key].append(i)
    used = set()
    for (chunk, file), members in progress(sorted(groups.items()), desc="data files"):
        try:
            rel = info["data_path"].format(chunk_index=chunk, file_index=file)
            _inside(root, rel, "data_path")
        except (DatasetFormatError, KeyError, ValueError) as e:
            report.add(root / INFO_PATH, f"data file of episodes {members[:5]}: {e}", "data_path")
            continue
        path = _safe_file(report, root, rel, f"data (episodes {members[:5]}{'...' if len(members) > 5 else ''})")
        used.add((root / rel).absolute())
        if path is None:
            continue
        pf = _parquet(report, path, "data file")
        if pf is None:
            continue
        report.checked["data_files"] += 1
        for msg in _schema_problems(pf.schema_arrow, features):
            report.add(path, msg)
        book = [
            c
            for c in ("index", "episode_index", "frame_index", "timestamp", "task_index")
            if c in pf.schema_arrow.names
        ]
        try:
            t = pf.read(columns=book if not deep else None)
        except (pa.ArrowException, OSError) as e:
            report.add(path, f"cannot read rows: {' '.join(str(e).split())[:300]}")
            continue
        if "index" not in t.column_names:
            continue
        try:
            col = {c: np.asarray(t.column(c).to_numpy(zero_copy_only=False), dtype=np.float64) for c in book}
        except (pa.ArrowException, TypeError, ValueError) as e:
            report.add(path, f"bookkeeping columns are not numeric: {e}")
            continue
        index = col["index"]
        ranges = [(int(eps["dataset_from_index"][m]), int(eps["dataset_to_index"][m]), m) for m in members]
        referenced = np.zeros(len(index), dtype=bool)
        for lo, hi, m in ranges:
            sel = (index >= lo) & (index < hi)
            referenced |= sel
            count = int(sel.sum())
            if count != hi - lo:
                report.add(
                    path, f"episode {m}: {count} rows with index in [{lo}, {hi}) but its length is {hi - lo}", "index"
                )
                continue
            rows = np.nonzero(sel)[0]
            if not np.array_equal(index[rows], np.arange(lo, hi)):
                report.add(path, f"episode {m}: rows are not in index order", "index")
            if "episode_index" in col and np.any(col["episode_index"][rows] != m):
                report.add(
                    path,
                    f"episode {m}: rows carry episode_index {np.unique(col['episode_index'][rows])[:5].tolist()}",
                    "episode_index",
                )
            if "frame_index" in col and not np.array_equal(col["frame_index"][rows], np.arange(hi - lo)):
                report.add(path, f"episode {m}: frame_index does not run 0..{hi - lo - 1}", "frame_index")
            if "timestamp" in col:
                ts = col["timestamp"][rows]
                if not np.all(np.isfinite(ts)):
                    report.add(path, f"episode {m}: timestamp holds NaN or infinite values", "timestamp")
                elif np.any(np.diff(ts) <= 0):
                    report.add(path, f"episode {m}: timestamps are not increasing", "timestamp")
                elif np.max(np.abs(ts - np.arange(hi - lo) / fps)) > TS_TOLERANCE_S:
                    report.add(
                        path,
                        f"episode {m}: timestamps differ from frame_index / fps ({fps}) by up to "
                        f"{np.max(np.abs(ts - np.arange(hi - lo) / fps)):.6f}s",
                        "timestamp",
                    )
            if "task_index" in col:
                ti = col["task_index"][rows]
                n_tasks = report.checked.get("tasks", 0)
                if np.any(ti < 0) or np.any(ti >= n_tasks):
                    report.add(
                        path,
                        f"episode {m}: task_index {int(ti.max())} is not in meta/tasks.parquet ({n_tasks} tasks)",
                        "task_index",
                    )
                elif eps["tasks"][m] is not None and report.task_names is not None:
                    names = {report.task_names[int(i)] for i in np.unique(ti)}
                    if names != set(eps["tasks"][m]):
                        report.add(
                            path,
                            f"episode {m}: rows have tasks {sorted(names)} but meta/episodes lists {eps['tasks'][m]} "
                            "(swapped task indices?)",
                            "task_index",
                        )
        extra = int((~referenced).sum())
        if extra:
            last = max(r[1] for r in ranges)
            tail = bool(np.all(index[~referenced] >= last))
            report.add(
                path,
                f"{extra} rows belong to no episode" + (" (a torn tail after the last episode)" if tail else ""),
                "index",
                fix="tail" if tail else None,
            )
        if deep:
            _deep_data(report, path, t, features)
    return used


def _deep_data(report: Report, path: Path, table: pa.Table, features: dict) -> None:
    from robotlearn.datasets.features import decode_png
    from robotlearn.datasets.table import column_to_numpy

    for name, ft in features.items():
        if ft["dtype"] == "video" or name not in table.column_names:
            continue
        try:
            values = column_to_numpy(table.column(name), ft, path, name)
        except DatasetFormatError as e:
            report.add(path, str(e), name)
            continue
        if ft["dtype"] == "image":
            for i, b in enumerate(values):
                try:
                    img = decode_png(b, name) if b is not None else None
                except DatasetError as e:
                    report.add(path, f"row {i}: {e}", name)
                    break
                if img is None or img.shape[:2] != tuple(ft["shape"][:2]):
                    report.add(
                        path, f"row {i}: image is {None if img is None else img.shape}, declared {ft['shape']}", name
                    )
                    break


def _check_videos(report: Report, root: Path, info: dict, eps: dict, deep: bool, progress) -> set[Path]:
    from robotlearn.datasets.tools.remux import decode_all, file_packets

    fps = info["fps"]
    used = set()
    for key, ft in info["features"].items():
        if ft["dtype"] != "video":
            continue
        c = {k: eps[f"videos/{key}/{k}"] for k in ("chunk_index", "file_index", "from_timestamp", "to_timestamp")}
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, pos in enumerate(zip(c["chunk_index"].tolist(), c["file_index"].tolist())):
            groups[pos].append(i)
        for (chunk, file), members in progress(sorted(groups.items()), desc=f"videos {key}"):
            try:
                rel = info["video_path"].format(video_key=key, chunk_index=chunk, file_index=file)
                _inside(root, rel, "video_path")
            except (DatasetFormatError, KeyError, ValueError) as e:
                report.add(root / INFO_PATH, f"video of {key!r} episodes {members[:5]}: {e}", "video_path")
                continue
            used.add((root / rel).absolute())
            path = _safe_file(report, root, rel, f"video {key!r} (episodes {members[:5]})")
            if path is None:
                continue
            try:
                props, packets = file_packets(path)
            except DatasetError as e:
                report.add(path, str(e))
                continue
            report.checked["video_files"] += 1
            h, w = ft["shape"][0], ft["shape"][1]
            if (props["height"], props["width"]) != (h, w):
                report.add(
                    path, f"video is {props['width']}x{props['height']} but feature {key!r} declares {w}x{h}", key
                )
            if props["fps"] is None or abs(props["fps"] - fps) > 1e-3:
                report.add(path, f"video runs at {props['fps']} fps but the dataset fps is {fps}", key)
            codec = (ft.get("info") or {}).get("video.codec")
            if codec and props["codec"] != codec:
                report.add(path, f"video codec is {props['codec']} but info.json says {codec}", key)
            times = np.array([p[0] for p in packets])
            keys = np.array([p[1] for p in packets], dtype=bool)
            order = np.argsort(times, kind="stable")
            times, keys = times[order], keys[order]
            members = sorted(members, key=lambda m: c["from_timestamp"][m])
            prev_end, prev_m = -math.inf, None
            for m in members:
                lo, hi = float(c["from_timestamp"][m]), float(c["to_timestamp"][m])
                n = int(eps["length"][m])
                if not hi > lo or lo < 0:
                    report.add(
                        path,
                        f"episode {m}: from_timestamp {lo} / to_timestamp {hi} are out of order",
                        f"videos/{key}/from_timestamp",
                    )
                    continue
                if lo < prev_end - TS_TOLERANCE_S:
                    report.add(
                        path,
                        f"episodes {prev_m} and {m} overlap in the video ({lo:.4f}s < {prev_end:.4f}s)",
                        f"videos/{key}/from_timestamp",
                    )
                prev_end, prev_m = hi, m
                if abs((hi - lo) - n / fps) > 1.5 / fps:
                    report.add(
                        path,
                        f"episode {m}: spans {hi - lo:.4f}s of video but has {n} frames at {fps} fps",
                        f"videos/{key}/to_timestamp",
                    )
                i0, i1 = np.searchsorted(times, lo - TS_TOLERANCE_S), np.searchsorted(times, hi - TS_TOLERANCE_S)
                if i1 - i0 != n:
                    where = (
                        "past the end of the video"
                        if props["duration"] is not None and hi > props["duration"] + TS_TOLERANCE_S
                        else "in its range"
                    )
                    report.add(
                        path, f"episode {m}: {i1 - i0} video frames {where} [{lo:.4f}s, {hi:.4f}s) but length {n}", key
                    )
                    continue
                if not keys[i0]:
                    report.add(path, f"episode {m}: first frame at {lo:.4f}s is not a key frame", key)
                if np.max(np.abs(times[i0:i1] - (lo + np.arange(n) / fps))) > TS_TOLERANCE_S * 10:
                    report.add(path, f"episode {m}: frame times are not from_timestamp + frame_index / fps", key)
            if deep:
                try:
                    frames = decode_all(path, rgb=False)
                except DatasetError as e:
                    report.add(path, str(e))
                    continue
                report.checked["frames_decoded"] += len(frames)
                if len(frames) != len(packets):
                    report.add(path, f"decoded {len(frames)} frames from {len(packets)} packets", key)
                bad = [t for t, size in frames if size != (h, w)]
                if bad:
                    report.add(path, f"{len(bad)} decoded frames are not {h}x{w}", key)
    return used


def _check_stats(report: Report, root: Path, info: dict) -> None:
    raw = _read_json(report, root, STATS_PATH, "stats", required=False)
    if raw is None:
        if not (root / STATS_PATH).exists() and info["total_episodes"]:
            report.add(root / STATS_PATH, "stats.json is missing", fix="stats")
        elif (root / STATS_PATH).exists():
            report.problems[-1].fix = "stats"
        return
    if not isinstance(raw, dict):
        report.add(
            root / STATS_PATH, f"expected an object {{feature: {{stat: list}}}}, got {type(raw).__name__}", fix="stats"
        )
        return
    for name, st in raw.items():
        ft = info["features"].get(name)
        if ft is None:
            report.add(root / STATS_PATH, f"stats for {name!r}, which is not a feature", name, fix="stats")
            continue
        if not isinstance(st, dict):
            report.add(root / STATS_PATH, f"stats of {name!r} must be an object", name, fix="stats")
            continue
        for sname, value in st.items():
            try:
                arr = np.asarray(value, dtype=np.float64)
            except (TypeError, ValueError):
                report.add(root / STATS_PATH, f"{name}/{sname} is not numeric", name, fix="stats")
                break
            if sname == "count":
                continue
            if not np.all(np.isfinite(arr)):
                report.add(root / STATS_PATH, f"{name}/{sname} holds NaN or infinite values", name, fix="stats")
                break
            want = (ft["shape"][2], 1, 1) if ft["dtype"] in ("image", "video") else tuple(ft["shape"])
            if arr.size != int(np.prod(want)):
                report.add(
                    root / STATS_PATH,
                    f"{name}/{sname} has shape {list(arr.shape)}, expected {list(want)}",
                    name,
                    fix="stats",
                )
                break


LEFTOVER_NAMES = (".staging",)


def _check_leftovers(report: Report, root: Path, used: set[Path]) -> None:
    for dirpath, dirs, files in os.walk(root, followlinks=False):
        d = Path(dirpath)
        for name in list(dirs):
            if name in LEFTOVER_NAMES or ".partial-" in name:
                report.add(d / name, "scratch folder left by an interrupted run", fix="leftover")
                dirs.remove(name)
        for name in files:
            p = d / name
            if name.endswith(".tmp") or ".partial-" in name or ".append-" in name:
                report.add(p, "temporary file left by an interrupted write", fix="leftover")
            elif p.absolute() not in used and (name.endswith(".parquet") or name.endswith(".mp4")):
                rel = p.relative_to(root).as_posix()
                if rel.startswith(("data/", "videos/")):
                    report.add(p, "file is referenced by no episode (left by an interrupted write?)", fix="orphan")


def validate(root: str | Path, deep: bool = False, progress: bool = False) -> Report:
    """Check the dataset at `root`; returns a Report (never writes). Raises DatasetFormatError if there is no dataset."""
    from tqdm import tqdm

    if isinstance(root, str) and "://" in root:
        return validate_remote(root)
    root = Path(root).expanduser()
    if not root.is_dir() or not (root / "meta").exists():
        what = "the folder does not exist" if not root.exists() else "it has no meta/ folder"
        raise DatasetFormatError(f"No dataset at {root} ({what}): pass --root pointing to a LeRobotDataset folder")
    report = Report(str(root), deep)

    def bar(items, desc):
        return tqdm(items, desc=desc, disable=not progress, leave=False)

    try:
        info = _check_info(report, root)
        tasks = _check_tasks(report, root)
        report.task_names = tasks
        report.checked["tasks"] = len(tasks) if tasks is not None else 0
        eps = _check_episodes(report, root, info, tasks)
        used: set[Path] = set()
        if eps:
            used |= _check_data(report, root, info, eps, deep, bar)
            used |= _check_videos(report, root, info, eps, deep, bar)
        elif eps is None:
            used = None
        _check_stats(report, root, info)
        if used is not None:
            _check_leftovers(report, root, used)
    except _Stop:
        pass
    return report


def validate_remote(url: str) -> Report:
    """Shallow check of a remote dataset (http(s)://, s3://, hf://) through the streaming reader's filesystem:
    metadata, every data file's footer and schema."""
    from robotlearn.datasets.metadata import LeRobotDatasetMetadata
    from robotlearn.datasets.remote import RemoteFS, RetryConfig

    report = Report(url, False)
    fs = RemoteFS(url, retry=RetryConfig(max_retries=2, timeout_s=10.0))  # a doctor reports, it need not wait long
    if not fs.exists(f"{fs.root}/{INFO_PATH}"):
        raise DatasetFormatError(f"No dataset at {url} ({INFO_PATH} not found there)")
    try:
        meta = LeRobotDatasetMetadata.from_filesystem("remote/dataset", fs, fs.root)
    except DatasetError as e:
        report.add(url, str(e))
        return report
    report.checked["episodes"] = meta.total_episodes
    cols = meta.episode_columns
    seen = set()
    for ep in range(meta.total_episodes):
        pos = int(cols["data/chunk_index"][ep]), int(cols["data/file_index"][ep])
        if pos in seen:
            continue
        seen.add(pos)
        path = meta.data_file(*pos)
        try:
            with fs.open(path, "rb") as f:
                schema = pq.ParquetFile(f).schema_arrow
        except (DatasetError, pa.ArrowException, OSError) as e:
            report.add(path, f"cannot read data file: {e}")
            continue
        report.checked["data_files"] += 1
        for msg in _schema_problems(schema, meta.features):
            report.add(path, msg)
    return report
