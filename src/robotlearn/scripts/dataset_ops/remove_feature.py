"""`robotlearn dataset remove-feature`: a copy without some features (a camera's videos or data columns, with their stats).

robotlearn dataset remove-feature --root=data/pusht --features=observation.images.wrist --output=data/pusht_nowrist
"""

from __future__ import annotations

from dataclasses import dataclass

from robotlearn.configs import parse_config
from robotlearn.datasets.tools.features import remove_feature
from robotlearn.scripts.dataset_ops._common import DatasetEditConfig, print_result, require_root, show_progress


@dataclass
class RemoveFeatureConfig(DatasetEditConfig):
    """`robotlearn dataset remove-feature`."""

    features: str = ""
    """Features to remove, comma-separated."""


CONFIG = RemoveFeatureConfig


def main(argv: list[str]) -> int:
    args = parse_config(RemoveFeatureConfig, argv, prog="robotlearn dataset remove-feature", description=__doc__)
    require_root(args)
    progress = show_progress(args)
    result = remove_feature(
        args.root,
        args.features,
        output=args.output or None,
        in_place=args.in_place,
        dry_run=args.dry_run,
        progress=progress,
    )
    print_result(result, args.json)
    return 0
