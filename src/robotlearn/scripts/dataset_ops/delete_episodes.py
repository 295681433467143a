"""`robotlearn dataset delete-episodes`: a copy without some episodes; the others' samples unchanged.

robotlearn dataset delete-episodes --root=data/pusht --episodes=3,7-9 --output=data/pusht_clean
"""

from __future__ import annotations

from dataclasses import dataclass

from robotlearn.configs import parse_config
from robotlearn.datasets.tools.delete import delete_episodes
from robotlearn.scripts.dataset_ops._common import DatasetEditConfig, print_result, require_root, show_progress


@dataclass
class DeleteEpisodesConfig(DatasetEditConfig):
    """`robotlearn dataset delete-episodes`."""

    episodes: str = ""
    """Episodes to delete: indices and ranges, e.g. 3,7-9."""
    in_place: bool = False
    """Replace the input instead (atomic swap; the old dataset is kept until the new one is complete)."""
    compact: bool = False
    """Re-encode (only) the episodes whose video does not start on a key frame, instead of refusing them."""


CONFIG = DeleteEpisodesConfig


def main(argv: list[str]) -> int:
    args = parse_config(DeleteEpisodesConfig, argv, prog="robotlearn dataset delete-episodes", description=__doc__)
    require_root(args)
    result = delete_episodes(
        args.root,
        args.episodes,
        output=args.output or None,
        in_place=args.in_place,
        dry_run=args.dry_run,
        compact=args.compact,
        progress=show_progress(args),
    )
    print_result(result, args.json)
    return 0
