"""`robotlearn dataset rename-feature`: rename features (data columns, video folders, stats keys).

robotlearn dataset rename-feature --root=data/pusht --rename=observation.image=observation.images.top --output=data/pusht2
"""

from __future__ import annotations

from dataclasses import dataclass

from robotlearn.configs import ConfigError, parse_config
from robotlearn.datasets.tools.features import rename_feature
from robotlearn.scripts.dataset_ops._common import DatasetEditConfig, print_result, require_root, show_progress


@dataclass
class RenameFeatureConfig(DatasetEditConfig):
    """`robotlearn dataset rename-feature`."""

    rename: str = ""
    """old=new pairs, comma-separated."""


CONFIG = RenameFeatureConfig


def _pairs(text: str, flag: str) -> dict[str, str]:
    out = {}
    for part in [p for p in text.split(",") if p.strip()]:
        old, sep, new = part.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ConfigError(f"{flag}: cannot parse {part!r}; use old=new,...")
        out[old.strip()] = new.strip()
    return out


def main(argv: list[str]) -> int:
    args = parse_config(RenameFeatureConfig, argv, prog="robotlearn dataset rename-feature", description=__doc__)
    require_root(args)
    progress = show_progress(args)
    result = rename_feature(
        args.root,
        _pairs(args.rename, "--rename"),
        output=args.output or None,
        in_place=args.in_place,
        dry_run=args.dry_run,
        progress=progress,
    )
    print_result(result, args.json)
    return 0
