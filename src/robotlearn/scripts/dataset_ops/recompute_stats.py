"""`robotlearn dataset recompute-stats`: per-episode and global statistics computed afresh from the data and frames.

robotlearn dataset recompute-stats --root=data/pusht --output=data/pusht_stats
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from robotlearn.configs import ConfigError, parse_config
from robotlearn.datasets.tools.stats import recompute_stats
from robotlearn.scripts.dataset_ops._print import print_result


@dataclass
class RecomputeStatsConfig:
    """`robotlearn dataset recompute-stats`."""

    root: str = ""
    """Dataset folder to read."""
    cameras: bool = True
    """Also recompute camera stats (decodes sampled frames); false keeps theirs."""
    output: str = ""
    """New dataset folder to write (must not exist)."""
    in_place: bool = False
    """Replace the input instead (atomic swap; the old dataset stays until the new one is complete)."""
    dry_run: bool = False
    """Say what would change; write nothing."""
    json: bool = False
    """Print the result as JSON."""


CONFIG = RecomputeStatsConfig


def main(argv: list[str]) -> int:
    args = parse_config(RecomputeStatsConfig, argv, prog="robotlearn dataset recompute-stats", description=__doc__)
    if not args.root:
        raise ConfigError("--root is required: the dataset folder")
    progress = not args.json and sys.stderr.isatty()
    result = recompute_stats(
        args.root,
        output=args.output or None,
        in_place=args.in_place,
        cameras=args.cameras,
        dry_run=args.dry_run,
        progress=progress,
    )
    print_result(result, args.json)
    return 0
