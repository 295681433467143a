"""`delete_episodes`: a copy of a dataset without some episodes; the others' samples unchanged."""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from robotlearn.datasets.errors import DatasetError
from robotlearn.datasets.tools.build import DatasetBuilder, SourceDataset, default_features
from robotlearn.datasets.tools.common import ToolResult, parse_episode_list, resolve_output, write_atomically


def delete_episodes(
    root: str | Path,
    episodes,
    output: str | Path | None = None,
    in_place: bool = False,
    dry_run: bool = False,
    compact: bool = False,
    progress: bool = False,
) -> ToolResult:
    """Write the dataset at `root` without `episodes` (list of ints or "0,3,5-7") to `output` (or in place).

    Remaining episodes are renumbered 0..n-1 in their order; rows, video packets and per-episode stats
    are copied unchanged (no re-encoding). Raises DatasetError for unknown episodes (nothing is written)
    or when every episode would go.
    """
    src = SourceDataset(root)
    drop = parse_episode_list(episodes, src.num_episodes, "delete-episodes")
    if not drop:
        raise DatasetError("delete-episodes: no episode given (--episodes=0,3,5-7)")
    keep = [e for e in range(src.num_episodes) if e not in set(drop)]
    if not keep:
        raise DatasetError(f"delete-episodes: deleting {drop} would remove every episode; nothing was written")
    target = resolve_output(src.root, output, in_place, "delete-episodes")
    result = ToolResult("delete-episodes", str(target), dry_run, details={"deleted": drop, "kept": len(keep)})
    result.lines.append(
        f"delete {len(drop)} episode(s) {drop} of {src.num_episodes}; {len(keep)} remain, renumbered 0..{len(keep) - 1}"
    )
    if dry_run:
        return result

    def build(out: Path) -> None:
        b = DatasetBuilder(out, src.meta.info, default_features(src.meta), compact=compact)
        for e in tqdm(keep, desc="delete-episodes", disable=not progress):
            b.add(src.episode(e))
        b.finish()
        result.lines.extend(f"re-encoded {x} (--compact: not on a key frame)" for x in b.reencoded)

    write_atomically(target, in_place, build)
    result.lines.append(f"wrote {target}")
    return result
