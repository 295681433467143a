"""`robotlearn dataset images-to-video`: turn image features (PNG bytes in the data files) into MP4 video features.

robotlearn dataset images-to-video --root=data/aloha_images --output=data/aloha_video
"""

from __future__ import annotations

from dataclasses import dataclass

from robotlearn.configs import parse_config
from robotlearn.datasets.tools.reencode import images_to_video
from robotlearn.scripts.dataset_ops._common import (
    DatasetEditConfig,
    EncoderConfig,
    print_result,
    require_root,
    show_progress,
)


@dataclass
class ImagesToVideoConfig(EncoderConfig, DatasetEditConfig):
    """`robotlearn dataset images-to-video`."""

    cameras: str = ""
    """Image features to encode, comma-separated (default all)."""


CONFIG = ImagesToVideoConfig


def main(argv: list[str]) -> int:
    args = parse_config(ImagesToVideoConfig, argv, prog="robotlearn dataset images-to-video", description=__doc__)
    require_root(args)
    progress = show_progress(args)
    result = images_to_video(
        args.root,
        output=args.output or None,
        in_place=args.in_place,
        cameras=args.cameras or None,
        vcodec=args.vcodec,
        crf=args.crf,
        g=args.g,
        preset=args.preset_value,
        dry_run=args.dry_run,
        progress=progress,
    )
    print_result(result, args.json)
    return 0
