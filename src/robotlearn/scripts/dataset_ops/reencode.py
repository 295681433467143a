"""`robotlearn dataset reencode`: re-encode camera videos (the only operation besides images-to-video that encodes).

robotlearn dataset reencode --root=data/pusht --vcodec=h264 --crf=23 --width=320 --height=240 --output=data/pusht_h264
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from robotlearn.configs import ConfigError, parse_config
from robotlearn.datasets.tools.reencode import reencode
from robotlearn.scripts.dataset_ops._print import print_result


@dataclass
class ReencodeConfig:
    """`robotlearn dataset reencode`."""

    root: str = ""
    """Dataset folder to read."""
    cameras: str = ""
    """Video cameras to re-encode, comma-separated (default all)."""
    vcodec: str = "libsvtav1"
    """Video codec: libsvtav1 (AV1, the LeRobot default) or h264 (faster)."""
    crf: int | None = None
    """Quality (lower is better); default 30 for AV1, 23 for h264."""
    g: int = 2
    """Key-frame interval in frames (2 = cheap random access)."""
    preset: str | None = None
    """Encoder preset (AV1: 0-13, default 12; h264: e.g. veryfast)."""
    width: int | None = None
    """New width in pixels (even; with --height)."""
    height: int | None = None
    """New height in pixels (even; with --width)."""
    output: str = ""
    """New dataset folder to write (must not exist)."""
    in_place: bool = False
    """Replace the input instead (atomic swap; the old dataset stays until the new one is complete)."""
    dry_run: bool = False
    """Say what would change; write nothing."""
    json: bool = False
    """Print the result as JSON."""


CONFIG = ReencodeConfig


def _preset(text):
    return int(text) if text is not None and text.isdigit() else text


def main(argv: list[str]) -> int:
    args = parse_config(ReencodeConfig, argv, prog="robotlearn dataset reencode", description=__doc__)
    if not args.root:
        raise ConfigError("--root is required: the dataset folder")
    progress = not args.json and sys.stderr.isatty()
    result = reencode(
        args.root,
        output=args.output or None,
        in_place=args.in_place,
        cameras=args.cameras or None,
        vcodec=args.vcodec,
        crf=args.crf,
        g=args.g,
        preset=_preset(args.preset),
        width=args.width,
        height=args.height,
        dry_run=args.dry_run,
        progress=progress,
    )
    print_result(result, args.json)
    return 0
