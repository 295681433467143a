"""`merge_datasets`: one dataset from several with the same fps, features, codec and robot (no re-encoding)."""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from robotlearn.datasets.errors import DatasetError
from robotlearn.datasets.tools.build import DatasetBuilder, SourceDataset, default_features
from robotlearn.datasets.tools.common import ToolResult, write_atomically

# Encoder-tuning keys that may differ between merged datasets (FORMAT.md §15): set to null when they do.
TUNING_KEYS = (
    "video.g",
    "video.crf",
    "video.preset",
    "video.fast_decode",
    "video.video_backend",
    "video.extra_options",
)
STREAM_KEYS = ("video.codec", "video.pix_fmt", "video.height", "video.width", "video.fps")


def merge_mismatches(sources: list[SourceDataset]) -> list[str]:
    """Every difference that forbids merging, one line each (empty when the datasets can be merged)."""
    first = sources[0].meta
    problems = []
    for s in sources[1:]:
        m = s.meta
        where = f"{m.root} vs {first.root}"
        if m.fps != first.fps:
            problems.append(f"{where}: fps {m.fps} vs {first.fps}")
        if m.robot_type != first.robot_type:
            problems.append(f"{where}: robot_type {m.robot_type!r} vs {first.robot_type!r}")
        for name in sorted(set(first.features) | set(m.features)):
            a, b = first.features.get(name), m.features.get(name)
            if a is None or b is None:
                problems.append(f"{where}: feature {name!r} only in {first.root if b is None else m.root}")
                continue
            for key in ("dtype", "shape", "names"):
                if a.get(key) != b.get(key):
                    problems.append(f"{where}: feature {name!r} {key} {b.get(key)} vs {a.get(key)}")
            if a.get("dtype") == "video":
                ia, ib = a.get("info") or {}, b.get("info") or {}
                for key in STREAM_KEYS:
                    if ia.get(key) != ib.get(key):
                        problems.append(f"{where}: feature {name!r} {key} {ib.get(key)} vs {ia.get(key)}")
    return problems


def merged_features(sources: list[SourceDataset]) -> dict:
    features = default_features(sources[0].meta)
    for name, ft in features.items():
        if ft["dtype"] != "video":
            continue
        info = dict(ft.get("info") or {})
        for key in TUNING_KEYS:
            values = [(s.meta.features[name].get("info") or {}).get(key) for s in sources]
            if any(v != values[0] for v in values):
                info[key] = {} if key == "video.extra_options" else None
        ft["info"] = info
    return features


def merge_datasets(
    roots: list[str | Path], output: str | Path, dry_run: bool = False, compact: bool = False, progress: bool = False
) -> ToolResult:
    """Write the episodes of every dataset in `roots`, in that order, to `output`.

    Tasks form the union in order of first appearance (task indices remapped); videos are remuxed.
    Raises DatasetError listing every mismatch (fps, robot_type, features, codec/size/pix_fmt) at once.
    """
    if len(roots) < 2:
        raise DatasetError("merge: give at least two datasets (--roots=a,b)")
    sources = [SourceDataset(r) for r in roots]
    problems = merge_mismatches(sources)
    if problems:
        raise DatasetError(f"merge refused, {len(problems)} mismatch(es): " + "; ".join(problems))
    output = Path(output).expanduser()
    total = sum(s.num_episodes for s in sources)
    result = ToolResult("merge", str(output), dry_run, details={"episodes": total})
    for s in sources:
        result.lines.append(f"{s.root}: {s.num_episodes} episode(s), {s.meta.total_frames} frames")
    result.lines.append(f"-> {output}: {total} episodes")
    if dry_run:
        return result

    def build(out: Path) -> None:
        b = DatasetBuilder(out, sources[0].meta.info, merged_features(sources), compact=compact)
        with tqdm(total=total, desc="merge", disable=not progress) as bar:
            for s in sources:
                for e in range(s.num_episodes):
                    b.add(s.episode(e))
                    bar.update()
        b.finish()
        result.lines.extend(f"re-encoded {x} (--compact: not on a key frame)" for x in b.reencoded)

    write_atomically(output, False, build)
    return result
