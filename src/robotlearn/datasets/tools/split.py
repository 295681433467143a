"""`split_dataset`: several datasets from one, by fractions or episode lists (no re-encoding)."""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from robotlearn.datasets.errors import DatasetError
from robotlearn.datasets.tools.build import DatasetBuilder, SourceDataset, default_features
from robotlearn.datasets.tools.common import ToolResult, parse_episode_list, write_atomically


def plan_split(
    n: int, fractions: dict[str, float] | None = None, episodes: dict[str, object] | None = None
) -> dict[str, list[int]]:
    """Episode lists per split. Fractions (summing to <= 1) take consecutive episodes in order, each split
    at least one; episode lists ("0-9,12" or [0, 1]) must not overlap. Raises DatasetError."""
    if bool(fractions) == bool(episodes):
        raise DatasetError("split: give either fractions (train=0.8,val=0.2) or episode lists, not both or neither")
    if fractions:
        total = sum(fractions.values())
        if any(f <= 0 for f in fractions.values()) or total > 1 + 1e-9:
            raise DatasetError(f"split: fractions must be > 0 and sum to at most 1, got {fractions}")
        if len(fractions) > n:
            raise DatasetError(f"split: {len(fractions)} splits but only {n} episodes")
        out, start = {}, 0
        names = list(fractions)
        for i, name in enumerate(names):
            count = max(1, round(fractions[name] * n))
            if i == len(names) - 1 and abs(total - 1) < 1e-9:
                count = n - start
            count = min(count, n - start - (len(names) - 1 - i))
            out[name] = list(range(start, start + count))
            start += count
        return out
    out = {name: parse_episode_list(eps, n, f"split {name}") for name, eps in episodes.items()}
    seen: dict[int, str] = {}
    for name, eps in out.items():
        if not eps:
            raise DatasetError(f"split: split {name!r} has no episode")
        for e in eps:
            if e in seen:
                raise DatasetError(f"split: episode {e} is in both {seen[e]!r} and {name!r}")
            seen[e] = name
    return out


def split_dataset(
    root: str | Path,
    output: str | Path,
    fractions: dict[str, float] | None = None,
    episodes: dict[str, object] | None = None,
    dry_run: bool = False,
    compact: bool = False,
    progress: bool = False,
) -> ToolResult:
    """Write `<output>/<split name>` for each split of the dataset at `root`; each is atomic on its own."""
    src = SourceDataset(root)
    plan = plan_split(src.num_episodes, fractions, episodes)
    output = Path(output).expanduser()
    for name in plan:
        if not name or "/" in name or name.startswith("."):
            raise DatasetError(f"split: {name!r} is not a usable folder name")
        if (output / name).exists():
            raise DatasetError(f"{output / name} already exists; dataset tools never write over a folder")
    result = ToolResult("split", str(output), dry_run, details={"splits": plan})
    for name, eps in plan.items():
        result.lines.append(f"{name}: {len(eps)} episode(s) {eps[0]}..{eps[-1]} -> {output / name}")
    if dry_run:
        return result
    for name, eps in plan.items():

        def build(out: Path, eps=eps, name=name) -> None:
            b = DatasetBuilder(out, src.meta.info, default_features(src.meta), compact=compact)
            for e in tqdm(eps, desc=f"split {name}", disable=not progress):
                b.add(src.episode(e))
            b.finish()
            result.lines.extend(f"re-encoded {x} (--compact: not on a key frame)" for x in b.reencoded)

        write_atomically(output / name, False, build)
    return result
