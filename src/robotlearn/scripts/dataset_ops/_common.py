"""What the dataset operations' commands share: their common flags, and printing a result."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from robotlearn.errors import ConfigError


@dataclass
class DatasetEditConfig:
    """Flags of every operation that reads one dataset and writes a new one (or replaces it)."""

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


@dataclass
class EncoderConfig:
    """Video encoder flags (the operations that encode: reencode, images-to-video)."""

    vcodec: str = "libsvtav1"
    """Video codec: libsvtav1 (AV1, the LeRobot default) or h264 (faster)."""
    crf: int | None = None
    """Quality (lower is better); default 30 for AV1, 23 for h264."""
    g: int = 2
    """Key-frame interval in frames (2 = cheap random access)."""
    preset: str | None = None
    """Encoder preset (AV1: 0-13, default 12; h264: e.g. veryfast)."""

    @property
    def preset_value(self) -> int | str | None:
        """The preset as the encoder takes it: AV1 presets are numbers."""
        return int(self.preset) if self.preset is not None and self.preset.isdigit() else self.preset


def require_root(args, what: str = "the dataset folder") -> None:
    """ConfigError when --root is empty."""
    if not args.root:
        raise ConfigError(f"--root is required: {what}")


def show_progress(args) -> bool:
    """Progress bars only for a person at a terminal (not with --json or when stderr is piped)."""
    return not args.json and sys.stderr.isatty()


def print_result(result, as_json: bool) -> None:
    """Prints what an operation did (or would do, with --dry-run), or its JSON."""
    if as_json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
        return
    prefix = "[dry run] " if result.dry_run else ""
    for line in result.lines:
        print(prefix + line)
