"""`robotlearn find-cameras`: list the cameras OpenCV can open, with their resolution and fps.

On Linux the /dev/video* devices are probed, elsewhere indices 0..--max_index. Use the printed
index or path as `index_or_path` of an OpenCV camera. `--output_dir` saves one frame of each
camera as PNG, so you can tell which camera is which.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from robotlearn.cameras.discovery import candidate_sources, probe
from robotlearn.configs import parse_config
from robotlearn.errors import MissingDependencyError


@dataclass
class FindCamerasArgs:
    max_index: int = 10
    """Highest camera index probed (when there are no /dev/video* devices)."""
    paths: list[str] = field(default_factory=list)
    """Extra device paths or video files to probe, comma-separated."""
    output_dir: str = ""
    """If set, save one frame per camera as <output_dir>/<name>.png."""


CONFIG = FindCamerasArgs


def main(argv: list[str]) -> int:
    args = parse_config(FindCamerasArgs, argv, prog="robotlearn find-cameras", description=__doc__)
    try:
        import cv2
    except ImportError as e:
        raise MissingDependencyError("find-cameras needs OpenCV: pip install 'robotlearn[hardware]'") from e
    try:  # probing absent indices makes OpenCV print warnings; only our table matters here
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    except AttributeError:
        pass
    found = [info for src in candidate_sources(args.max_index) + list(args.paths) if (info := probe(src)) is not None]
    if not found:
        print("no cameras found. Check the USB connection and that no other program uses the camera.")
        return 0
    print(f"{'index_or_path':<24} {'width':>6} {'height':>6} {'fps':>6}  backend")
    for info in found:
        print(
            f"{str(info['index_or_path']):<24} {info['width']:>6} {info['height']:>6} {info['fps']:>6.1f}  {info['backend']}"
        )
        if args.output_dir:
            out = Path(args.output_dir)
            out.mkdir(parents=True, exist_ok=True)
            name = Path(str(info["index_or_path"])).name
            cv2.imwrite(str(out / f"{name}.png"), info["frame"])
    if args.output_dir:
        print(f"saved one frame per camera to {args.output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
