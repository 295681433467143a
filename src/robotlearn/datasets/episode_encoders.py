"""The video encoders of a recording: one per camera, opened one episode ahead.

Opening SVT-AV1 holds Python's GIL for ~10 ms per camera; done on the first `add_frame` of an episode it
stalled the control loop's first frame by 15-35 ms (benchmarks/bench_dataset.py). So the writer opens the
next episode's encoders as soon as it can (when the dataset is created or resumed, and after each
`save_episode` or `clear_episode_buffer`), with the frame size the features declare, while the caller is
between episodes. Each camera's image statistics are accumulated in its encoder's thread (`on_frame`).
"""

from __future__ import annotations

from collections.abc import Callable

from robotlearn.datasets import stats as stats_lib
from robotlearn.datasets.features import image_hwc_shape


class EpisodeEncoders:
    """`make(key, on_frame, frame_shape)` builds a camera's VideoEncoder; `meta` says which cameras exist."""

    def __init__(self, meta, make: Callable):
        self.meta = meta
        self.make = make
        self.ready: dict = {}  # video key -> (VideoEncoder, ImageStatsAccumulator) for the next episode

    def take(self, key: str):
        """(encoder, its stats accumulator) for camera `key`'s episode: the one opened ahead, else a new one."""
        ready = self.ready.pop(key, None)
        if ready is not None:
            return ready
        acc = stats_lib.ImageStatsAccumulator()
        return self.make(key, acc.add, None), acc

    def open_next(self) -> None:
        """Open an encoder for every video camera that has none waiting."""
        for key in self.meta.video_keys:
            if key not in self.ready:
                acc = stats_lib.ImageStatsAccumulator()
                h, w, _c = image_hwc_shape(self.meta.features[key])
                self.ready[key] = (self.make(key, acc.add, (h, w, 3)), acc)

    def close(self) -> None:
        """Stop the waiting encoders and delete their partial files."""
        for enc, _acc in self.ready.values():
            enc.abort()
        self.ready = {}
