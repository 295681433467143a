"""`edit_tasks`: rename task strings, or give episodes a new task (rows' task_index rewritten)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
from tqdm import tqdm

from robotlearn.datasets.errors import DatasetError
from robotlearn.datasets.tools.build import DatasetBuilder, SourceDataset, SourceEpisode, default_features
from robotlearn.datasets.tools.common import ToolResult, parse_episode_list, resolve_output, write_atomically


def _with_task(ep: SourceEpisode, task: str) -> SourceEpisode:
    names = list(ep.task_names) + [task]
    rows = ep.rows

    def new_rows() -> pa.Table:
        t = rows()
        i = t.column_names.index("task_index")
        return t.set_column(i, "task_index", pa.array(np.full(t.num_rows, len(names) - 1, dtype=np.int64)))

    return SourceEpisode(ep.source, ep.index, ep.length, new_rows, ep.videos, ep.stats, names, ep.label, ep.extra)


def edit_tasks(
    root: str | Path,
    rename: dict[str, str] | None = None,
    set_task: str | None = None,
    episodes=None,
    output: str | Path | None = None,
    in_place: bool = False,
    dry_run: bool = False,
    progress: bool = False,
) -> ToolResult:
    """Rename tasks (`{"old text": "new text"}`, merging tasks renamed to the same text) and/or set the task
    of `episodes` (all when None) to `set_task`. Tasks no episode uses any more are dropped."""
    src = SourceDataset(root)
    rename = dict(rename or {})
    unknown = [t for t in rename if t not in src.meta.tasks]
    if unknown:
        raise DatasetError(f"edit-tasks: no task {unknown[0]!r} in {src.root} (tasks: {src.meta.tasks})")
    if any(not str(v).strip() for v in rename.values()) or (set_task is not None and not set_task.strip()):
        raise DatasetError("edit-tasks: a task must be a non-empty string")
    if not rename and set_task is None:
        raise DatasetError("edit-tasks: nothing to do; pass --rename=old=new or --set_task=... [--episodes=...]")
    chosen = (
        set(parse_episode_list(episodes, src.num_episodes, "edit-tasks")) if episodes else set(range(src.num_episodes))
    )
    if set_task is None and episodes:
        raise DatasetError("edit-tasks: --episodes applies to --set_task")
    target = resolve_output(src.root, output, in_place, "edit-tasks")
    result = ToolResult("edit-tasks", str(target), dry_run)
    result.lines += [f"rename task {a!r} -> {b!r}" for a, b in rename.items()]
    if set_task is not None:
        result.lines.append(f"set the task of {len(chosen)} episode(s) to {set_task!r}")
    if dry_run:
        return result

    def build(out: Path) -> None:
        b = DatasetBuilder(out, src.meta.info, default_features(src.meta), task_map=rename)
        for e in tqdm(range(src.num_episodes), desc="edit-tasks", disable=not progress):
            ep = src.episode(e)
            b.add(_with_task(ep, set_task) if set_task is not None and e in chosen else ep)
        b.finish()

    write_atomically(target, in_place, build)
    return result
