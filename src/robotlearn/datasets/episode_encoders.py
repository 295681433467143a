"""The video encoders of a recording: one per camera, opened one episode ahead.

Opening SVT-AV1 holds Python's GIL for ~10 ms per camera; done on the first `add_frame` of an episode it
stalled the control loop's first frame by 15-35 ms (benchmarks/bench_dataset.py). So the writer opens the
next episode's encoders as soon as it can (when the dataset is created or resumed, and after each
`save_episode` or `clear_episode_buffer`), with the frame size the features declare, while the caller is
between episodes. They are opened from a background thread, so `save_episode` does not wait for them
either (3 SVT-AV1 cameras: 35-100 ms of its 0.25-0.33 s); the next episode's first `add_frame` waits for
that thread if it has not finished. Each camera's image statistics are accumulated in its encoder's thread
(`on_frame`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from robotlearn.datasets import stats as stats_lib
from robotlearn.datasets.features import image_hwc_shape


class EpisodeEncoders:
    """`make(key, on_frame, frame_shape)` builds a camera's VideoEncoder; `meta` says which cameras exist."""

    def __init__(self, meta, make: Callable):
        self.meta = meta
        self.make = make
        self.ready: dict = {}  # video key -> (VideoEncoder, ImageStatsAccumulator) for the next episode
        self._opener: threading.Thread | None = None

    def take(self, key: str):
        """(encoder, its stats accumulator) for camera `key`'s episode: the one opened ahead, else a new one."""
        self._wait()
        ready = self.ready.pop(key, None)
        if ready is not None:
            return ready
        acc = stats_lib.ImageStatsAccumulator()
        return self.make(key, acc.add, None), acc

    def open_next(self, background: bool = True) -> None:
        """Open an encoder for every video camera that has none waiting (in a background thread)."""
        self._wait()
        if background:
            self._opener = threading.Thread(target=self._open_missing, name="EpisodeEncoders-open", daemon=True)
            self._opener.start()
        else:
            self._open_missing()

    def _open_missing(self) -> None:
        # An encoder that fails to open here is not kept: `take` then builds it in the caller, which raises.
        for key in self.meta.video_keys:
            if key not in self.ready:
                acc = stats_lib.ImageStatsAccumulator()
                h, w, _c = image_hwc_shape(self.meta.features[key])
                try:
                    self.ready[key] = (self.make(key, acc.add, (h, w, 3)), acc)
                except Exception:
                    return

    def _wait(self) -> None:
        if self._opener is not None:
            self._opener.join()
            self._opener = None

    def close(self) -> None:
        """Stop the waiting encoders and delete their partial files."""
        self._wait()
        for enc, _acc in self.ready.values():
            enc.abort()
        self.ready = {}
