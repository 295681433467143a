"""`remove_feature` and `rename_feature`: a copy with features dropped or renamed (no re-encoding)."""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from robotlearn.datasets.errors import DatasetError
from robotlearn.datasets.features import DEFAULT_FEATURES
from robotlearn.datasets.tools.build import DatasetBuilder, SourceDataset, default_features
from robotlearn.datasets.tools.common import ToolResult, resolve_output, write_atomically


def _names(names) -> list[str]:
    return [n.strip() for n in (names.split(",") if isinstance(names, str) else names) if n.strip()]


def _check_known(features: dict, names: list[str], operation: str) -> None:
    import difflib

    for name in names:
        if name in DEFAULT_FEATURES:
            raise DatasetError(
                f"{operation}: {name!r} is a bookkeeping feature every dataset needs; it cannot be changed"
            )
        if name not in features:
            close = difflib.get_close_matches(name, list(features), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise DatasetError(f"{operation}: no feature {name!r}{hint} (features: {sorted(features)})")


def _rebuild(
    src: SourceDataset, target: Path, in_place: bool, features: dict, rename: dict, progress: bool, desc: str
) -> None:
    def build(out: Path) -> None:
        b = DatasetBuilder(out, src.meta.info, features, rename=rename)
        for e in tqdm(range(src.num_episodes), desc=desc, disable=not progress):
            b.add(src.episode(e))
        b.finish()

    write_atomically(target, in_place, build)


def remove_feature(
    root: str | Path,
    names,
    output: str | Path | None = None,
    in_place: bool = False,
    dry_run: bool = False,
    progress: bool = False,
) -> ToolResult:
    """Write the dataset without the features `names` (a camera's videos, or data columns, and their stats)."""
    src = SourceDataset(root)
    names = _names(names)
    if not names:
        raise DatasetError("remove-feature: no feature given (--features=observation.images.wrist)")
    _check_known(src.meta.features, names, "remove-feature")
    features = {k: v for k, v in default_features(src.meta).items() if k not in names}
    target = resolve_output(src.root, output, in_place, "remove-feature")
    result = ToolResult("remove-feature", str(target), dry_run, details={"removed": names})
    result.lines.append(f"remove {names}; keep {[k for k in features if k not in DEFAULT_FEATURES]}")
    if not dry_run:
        _rebuild(src, target, in_place, features, {}, progress, "remove-feature")
    return result


def rename_feature(
    root: str | Path,
    mapping: dict[str, str],
    output: str | Path | None = None,
    in_place: bool = False,
    dry_run: bool = False,
    progress: bool = False,
) -> ToolResult:
    """Write the dataset with features renamed (`{"old": "new"}`): columns, video folders, stats keys."""
    src = SourceDataset(root)
    if not mapping:
        raise DatasetError("rename-feature: nothing to rename (--rename=old=new,...)")
    _check_known(src.meta.features, list(mapping), "rename-feature")
    features = {}
    for name, ft in default_features(src.meta).items():
        new = mapping.get(name, name)
        if new in features or (new != name and new in src.meta.features and new not in mapping):
            raise DatasetError(f"rename-feature: {new!r} already exists")
        if not new or "/" in new:
            raise DatasetError(f"rename-feature: {new!r} is not a valid feature name (non-empty, no '/')")
        features[new] = ft
    target = resolve_output(src.root, output, in_place, "rename-feature")
    result = ToolResult("rename-feature", str(target), dry_run, details={"renamed": mapping})
    result.lines += [f"rename {a!r} -> {b!r}" for a, b in mapping.items()]
    if not dry_run:
        _rebuild(src, target, in_place, features, dict(mapping), progress, "rename-feature")
    return result
