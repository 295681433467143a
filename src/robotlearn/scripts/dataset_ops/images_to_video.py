"""`robotlearn dataset images-to-video`: turn image features (PNG bytes in the data files) into MP4 video features.

robotlearn dataset images-to-video --root=data/aloha_images --output=data/aloha_video
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from robotlearn.configs import ConfigError, parse_config
from robotlearn.datasets.tools.reencode import images_to_video
from robotlearn.scripts.dataset_ops._print import print_result


@dataclass
class ImagesToVideoConfig:
    """`robotlearn dataset images-to-video`."""

    root: str = ""
    """Dataset folder to read."""
    cameras: str = ""
    """Image features to encode, comma-separated (default all)."""
    vcodec: str = "libsvtav1"
    """Video codec: libsvtav1 (AV1, the LeRobot default) or h264 (faster)."""
    crf: int | None = None
    """Quality (lower is better); default 30 for AV1, 23 for h264."""
    g: int = 2
    """Key-frame interval in frames (2 = cheap random access)."""
    preset: str | None = None
    """Encoder preset (AV1: 0-13, default 12; h264: e.g. veryfast)."""
    output: str = ""
    """New dataset folder to write (must not exist)."""
    in_place: bool = False
    """Replace the input instead (atomic swap; the old dataset stays until the new one is complete)."""
    dry_run: bool = False
    """Say what would change; write nothing."""
    json: bool = False
    """Print the result as JSON."""


CONFIG = ImagesToVideoConfig


def _preset(text):
    return int(text) if text is not None and text.isdigit() else text


def main(argv: list[str]) -> int:
    args = parse_config(ImagesToVideoConfig, argv, prog="robotlearn dataset images-to-video", description=__doc__)
    if not args.root:
        raise ConfigError("--root is required: the dataset folder")
    progress = not args.json and sys.stderr.isatty()
    result = images_to_video(
        args.root,
        output=args.output or None,
        in_place=args.in_place,
        cameras=args.cameras or None,
        vcodec=args.vcodec,
        crf=args.crf,
        g=args.g,
        preset=_preset(args.preset),
        dry_run=args.dry_run,
        progress=progress,
    )
    print_result(result, args.json)
    return 0
