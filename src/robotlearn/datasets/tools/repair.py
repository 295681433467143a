"""`repair`: fix what a crash or an interrupted copy leaves, in place, each fix atomic.

What it fixes (problems `validate` marks repairable): scratch folders and temp files (deleted);
data/video files no episode references (deleted: the episodes table is the commit point, so they
hold only uncommitted work); rows after the last episode of a data file, a torn tail (the file is
rewritten without them); info.json totals (re-derived from the episodes table); a missing or
malformed stats.json (re-aggregated from the per-episode stats columns). Anything else is reported
as not repairable: repair never guesses at data.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from robotlearn.datasets import stats as stats_lib
from robotlearn.datasets.metadata import INFO_PATH, STATS_PATH, load_episodes_table, read_json, write_json_atomic
from robotlearn.datasets.tools.common import ToolResult
from robotlearn.datasets.tools.validate import Report, validate


def _fix_tail(path: Path, last_index: int) -> str:
    from robotlearn.datasets.writer import write_parquet_atomic

    pf = pq.ParquetFile(path)
    groups = [pf.read_row_group(i) for i in range(pf.num_row_groups)]
    kept = [g.filter(pa.array(g.column("index").to_numpy() < last_index)) for g in groups]
    removed = sum(g.num_rows for g in groups) - sum(g.num_rows for g in kept)
    write_parquet_atomic([g for g in kept if g.num_rows], path, pf.schema_arrow)
    return f"{path}: removed {removed} uncommitted rows after the last episode"


def _fix_totals(root: Path) -> str:
    info = read_json(root / INFO_PATH)
    table = load_episodes_table(root)
    from robotlearn.datasets.metadata import load_tasks

    n = 0 if table is None else table.num_rows
    frames = 0 if table is None or not n else int(table.column("dataset_to_index")[-1].as_py())
    tasks = len(load_tasks(root))
    info.update({"total_episodes": n, "total_frames": frames, "total_tasks": tasks, "splits": {"train": f"0:{n}"}})
    write_json_atomic(info, root / INFO_PATH)
    return f"{root / INFO_PATH}: totals set to {n} episodes, {frames} frames, {tasks} tasks (from meta/episodes)"


def _fix_stats(root: Path) -> str:
    info = read_json(root / INFO_PATH)
    table = load_episodes_table(root, with_stats=True)
    cols = [c for c in table.column_names if c.startswith("stats/")]
    per_episode = [stats_lib.unflatten_stats_columns(r) for r in table.select(cols).to_pylist()]
    agg = stats_lib.aggregate_stats(per_episode)
    agg = {k: v for k, v in agg.items() if k in info["features"]}
    stats_lib.write_stats_json(agg, root / STATS_PATH)
    return f"{root / STATS_PATH}: recomputed from the per-episode stats of {len(per_episode)} episodes"


def repair(root: str | Path, dry_run: bool = False) -> tuple[ToolResult, Report]:
    """Fix the repairable problems of the dataset at `root`; returns (what was done, the report after)."""
    root = Path(root).expanduser()
    before = validate(root)
    result = ToolResult("repair", str(root), dry_run)
    fixes = [p for p in before.problems if p.fix]
    todo: list[tuple[str, object]] = []
    for p in fixes:
        if p.fix in ("leftover", "orphan"):
            todo.append((f"delete {p.file} ({p.message})", lambda p=p: _delete(Path(p.file))))
        elif p.fix == "tail":
            last = int(np.max(load_episodes_table(root).column("dataset_to_index").to_numpy()))
            todo.append((f"truncate {p.file} ({p.message})", lambda p=p, last=last: _fix_tail(Path(p.file), last)))
    if any(p.fix == "totals" for p in fixes):
        todo.append(("rewrite info.json totals", lambda: _fix_totals(root)))
    if any(p.fix == "stats" for p in fixes):
        todo.append(("recompute meta/stats.json", lambda: _fix_stats(root)))
    for what, fn in todo:
        if dry_run:
            result.lines.append(f"would {what}")
        else:
            out = fn()
            result.lines.append(out if isinstance(out, str) else what)
    if not todo:
        result.lines.append("nothing to repair")
    after = before if dry_run else validate(root)
    for p in after.problems:
        if not p.fix or not dry_run:
            result.lines.append(f"not repairable: {p.file}: {p.message}")
    result.details = {"fixed": len(todo) if not dry_run else 0, "remaining": len(after.problems)}
    return result, after


def _delete(path: Path) -> str:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    return f"deleted {path}"
