"""`robotlearn dataset remove-feature`: a copy without some features (a camera's videos or data columns, with their stats).

robotlearn dataset remove-feature --root=data/pusht --features=observation.images.wrist --output=data/pusht_nowrist
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from robotlearn.configs import ConfigError, parse_config
from robotlearn.datasets.tools.features import remove_feature
from robotlearn.scripts.dataset_ops._print import print_result


@dataclass
class RemoveFeatureConfig:
    """`robotlearn dataset remove-feature`."""

    root: str = ""
    """Dataset folder to read."""
    features: str = ""
    """Features to remove, comma-separated."""
    output: str = ""
    """New dataset folder to write (must not exist)."""
    in_place: bool = False
    """Replace the input instead (atomic swap; the old dataset stays until the new one is complete)."""
    dry_run: bool = False
    """Say what would change; write nothing."""
    json: bool = False
    """Print the result as JSON."""


CONFIG = RemoveFeatureConfig


def main(argv: list[str]) -> int:
    args = parse_config(RemoveFeatureConfig, argv, prog="robotlearn dataset remove-feature", description=__doc__)
    if not args.root:
        raise ConfigError("--root is required: the dataset folder")
    progress = not args.json and sys.stderr.isatty()
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
