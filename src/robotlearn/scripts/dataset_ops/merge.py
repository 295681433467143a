"""`robotlearn dataset merge`: one dataset from several (same fps, features, codec, robot), no re-encoding.

    robotlearn dataset merge --roots=data/day1,data/day2 --output=data/all

Datasets that differ are refused with one message listing every mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from robotlearn.configs import ConfigError, parse_config
from robotlearn.datasets.tools.merge import merge_datasets
from robotlearn.scripts.dataset_ops._common import print_result, show_progress


@dataclass
class MergeConfig:
    """`robotlearn dataset merge`."""

    roots: list[str] = field(default_factory=list)
    """Dataset folders to merge, in order (comma-separated)."""
    output: str = ""
    """New dataset folder to write (must not exist)."""
    compact: bool = False
    """Re-encode (only) the episodes whose video does not start on a key frame, instead of refusing them."""
    dry_run: bool = False
    """Check compatibility and say what would be written; write nothing."""
    json: bool = False
    """Print the result as JSON."""


CONFIG = MergeConfig


def main(argv: list[str]) -> int:
    args = parse_config(MergeConfig, argv, prog="robotlearn dataset merge", description=__doc__)
    if not args.roots:
        raise ConfigError("--roots is required: two or more dataset folders, comma-separated")
    if len(args.roots) == 1:
        from robotlearn.datasets.tools.build import open_metadata

        open_metadata(args.roots[0])
    if not args.output:
        raise ConfigError("--output is required: the new dataset folder")
    result = merge_datasets(
        args.roots,
        args.output,
        dry_run=args.dry_run,
        compact=args.compact,
        progress=show_progress(args),
    )
    print_result(result, args.json)
    return 0
