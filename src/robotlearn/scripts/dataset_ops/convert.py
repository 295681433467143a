"""`robotlearn dataset convert`: convert a LeRobotDataset v2.1 folder to v3.0 (episodes packed into files, videos remuxed, no re-encoding).

robotlearn dataset convert --root=data/old_v21 --output=data/new_v30
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from robotlearn.configs import ConfigError, parse_config
from robotlearn.datasets.tools.convert import convert_v21
from robotlearn.scripts.dataset_ops._print import print_result


@dataclass
class ConvertConfig:
    """`robotlearn dataset convert`."""

    root: str = ""
    """Dataset folder to read."""
    output: str = ""
    """New dataset folder to write (must not exist)."""
    in_place: bool = False
    """Replace the input instead (atomic swap; the old dataset stays until the new one is complete)."""
    dry_run: bool = False
    """Say what would change; write nothing."""
    json: bool = False
    """Print the result as JSON."""


CONFIG = ConvertConfig


def main(argv: list[str]) -> int:
    args = parse_config(ConvertConfig, argv, prog="robotlearn dataset convert", description=__doc__)
    if not args.root:
        raise ConfigError("--root is required: the dataset folder")
    progress = not args.json and sys.stderr.isatty()
    result = convert_v21(
        args.root, output=args.output or None, in_place=args.in_place, dry_run=args.dry_run, progress=progress
    )
    print_result(result, args.json)
    return 0
