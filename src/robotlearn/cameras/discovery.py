"""Find the cameras OpenCV can open (`robotlearn find-cameras`)."""

from __future__ import annotations

import glob
import sys


def probe(source: int | str) -> dict | None:
    """{"index_or_path", "width", "height", "fps", "backend"} if OpenCV opens `source` and reads a frame, else None."""
    import cv2

    cap = cv2.VideoCapture(source)
    try:
        if not cap.isOpened():
            return None
        ok, frame = cap.read()
        if not ok or frame is None:
            return None
        return {
            "index_or_path": source,
            "width": frame.shape[1],
            "height": frame.shape[0],
            "fps": cap.get(cv2.CAP_PROP_FPS),
            "backend": cap.getBackendName(),
            "frame": frame,
        }
    finally:
        cap.release()


def candidate_sources(max_index: int) -> list[int | str]:
    devices = sorted(glob.glob("/dev/video*"), key=lambda p: (len(p), p))
    return devices if sys.platform.startswith("linux") and devices else list(range(max_index + 1))
