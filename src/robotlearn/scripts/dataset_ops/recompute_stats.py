"""`robotlearn dataset recompute-stats`: per-episode and global statistics computed afresh from the data and frames.

robotlearn dataset recompute-stats --root=data/pusht --output=data/pusht_stats
"""

from __future__ import annotations

from dataclasses import dataclass

from robotlearn.configs import parse_config
from robotlearn.datasets.tools.stats import recompute_stats
from robotlearn.scripts.dataset_ops._common import DatasetEditConfig, print_result, require_root, show_progress


@dataclass
class RecomputeStatsConfig(DatasetEditConfig):
    """`robotlearn dataset recompute-stats`."""

    cameras: bool = True
    """Also recompute camera stats (decodes sampled frames); false keeps theirs."""


CONFIG = RecomputeStatsConfig


def main(argv: list[str]) -> int:
    args = parse_config(RecomputeStatsConfig, argv, prog="robotlearn dataset recompute-stats", description=__doc__)
    require_root(args)
    progress = show_progress(args)
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
