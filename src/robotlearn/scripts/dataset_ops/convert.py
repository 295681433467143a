"""`robotlearn dataset convert`: convert a LeRobotDataset v2.1 folder to v3.0 (episodes packed into files, videos remuxed, no re-encoding).

robotlearn dataset convert --root=data/old_v21 --output=data/new_v30
"""

from __future__ import annotations

from dataclasses import dataclass

from robotlearn.configs import parse_config
from robotlearn.datasets.tools.convert import convert_v21
from robotlearn.scripts.dataset_ops._common import DatasetEditConfig, print_result, require_root, show_progress


@dataclass
class ConvertConfig(DatasetEditConfig):
    """`robotlearn dataset convert`."""


CONFIG = ConvertConfig


def main(argv: list[str]) -> int:
    args = parse_config(ConvertConfig, argv, prog="robotlearn dataset convert", description=__doc__)
    require_root(args)
    progress = show_progress(args)
    result = convert_v21(
        args.root, output=args.output or None, in_place=args.in_place, dry_run=args.dry_run, progress=progress
    )
    print_result(result, args.json)
    return 0
