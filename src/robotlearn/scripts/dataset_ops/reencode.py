"""`robotlearn dataset reencode`: re-encode camera videos (the only operation besides images-to-video that encodes).

robotlearn dataset reencode --root=data/pusht --vcodec=h264 --crf=23 --width=320 --height=240 --output=data/pusht_h264
"""

from __future__ import annotations

from dataclasses import dataclass

from robotlearn.configs import parse_config
from robotlearn.datasets.tools.reencode import reencode
from robotlearn.scripts.dataset_ops._common import (
    DatasetEditConfig,
    EncoderConfig,
    print_result,
    require_root,
    show_progress,
)


@dataclass
class ReencodeConfig(EncoderConfig, DatasetEditConfig):
    """`robotlearn dataset reencode`."""

    cameras: str = ""
    """Video cameras to re-encode, comma-separated (default all)."""
    width: int | None = None
    """New width in pixels (even; with --height)."""
    height: int | None = None
    """New height in pixels (even; with --width)."""


CONFIG = ReencodeConfig


def main(argv: list[str]) -> int:
    args = parse_config(ReencodeConfig, argv, prog="robotlearn dataset reencode", description=__doc__)
    require_root(args)
    progress = show_progress(args)
    result = reencode(
        args.root,
        output=args.output or None,
        in_place=args.in_place,
        cameras=args.cameras or None,
        vcodec=args.vcodec,
        crf=args.crf,
        g=args.g,
        preset=args.preset_value,
        width=args.width,
        height=args.height,
        dry_run=args.dry_run,
        progress=progress,
    )
    print_result(result, args.json)
    return 0
