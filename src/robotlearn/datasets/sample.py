"""One sample dict from an episode's loaded rows: windows, pad masks, images, video frames, task.

`SampleAssembler` is the part of reading a frame that does not care where the rows came from: the
map-style `LeRobotDataset` loads whole data files, `StreamingLeRobotDataset` loads one episode's
row group at a time over fsspec. Both must return identical samples (same keys, shapes, dtypes,
windows and `<key>_is_pad` masks), so the assembly lives here once.

Speed: what depends only on the features and `delta_timestamps` (which keys are read how, each window's
offsets and extent) is worked out once per dataset, so a sample costs one fancy-index and one tensor per
key. At 96x96 the decoder's own work is ~0.15 ms per sample, so tens of microseconds here would show.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from robotlearn.datasets.errors import DatasetFormatError
from robotlearn.datasets.features import decode_png
from robotlearn.datasets.table import LoadedFile

# decode(key, episode_index, times_in_episode_s (T floats), squeeze, out) -> (C, H, W) or (T, C, H, W) tensor,
# written into `out` (a tensor of that shape and the sample's dtype) when it is given.
DecodeFn = Callable[[str, int, list, bool, "torch.Tensor | None"], torch.Tensor]


def camera_tensor(
    decode_into: Callable[[np.ndarray], object],
    n: int,
    hw: tuple[int, int],
    return_uint8: bool,
    squeeze: bool,
    out: torch.Tensor | None = None,
) -> torch.Tensor:
    """A camera's frames as the sample holds them: `decode_into(array)` fills a (n, 3, H, W) uint8 array
    (a view of the returned tensor's memory, so nothing is copied or transposed afterwards). Returns
    (n, 3, H, W), or (3, H, W) when `squeeze`; uint8, or float in [0, 1] unless `return_uint8`.

    `out`: where to put them (e.g. this sample's place in a batch, see collate.prefill_batch); ignored
    unless it has that shape and dtype and is contiguous."""
    shape = (n, 3, *hw)
    dtype = torch.uint8 if return_uint8 else torch.float32
    if out is not None and out.dtype == dtype and out.is_contiguous() and out.numel() == math.prod(shape):
        target = out.view(shape)
        if return_uint8:
            decode_into(target.numpy())
        else:
            frames = np.empty(shape, dtype=np.uint8)
            decode_into(frames)
            torch.div(torch.from_numpy(frames), 255.0, out=target)
        return out
    frames = np.empty(shape, dtype=np.uint8)  # numpy allocates a few us faster than torch.empty
    decode_into(frames)
    tensor = torch.from_numpy(frames)
    if not return_uint8:
        tensor = tensor.float().div_(255.0)
    return tensor[0] if squeeze else tensor


class _Window:
    """A key's integer frame offsets (T,) and their extent, for clamping to the episode (FORMAT.md §11)."""

    __slots__ = ("offsets", "lo", "hi", "n", "consecutive")

    def __init__(self, offsets: np.ndarray):
        self.offsets = np.asarray(offsets, dtype=np.int64)
        self.lo, self.hi = int(self.offsets.min()), int(self.offsets.max())
        self.n = len(self.offsets)
        # Offsets lo, lo+1, ..., hi (e.g. an action chunk): inside the episode, a slice of the rows.
        self.consecutive = bool(np.array_equal(self.offsets, np.arange(self.lo, self.hi + 1)))

    def rows(self, absolute: int, start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
        """(query indices clamped to [start, end - 1], is_pad) as `windows.window` computes them."""
        wanted = self.offsets + absolute
        if absolute + self.lo >= start and absolute + self.hi < end:  # inside the episode: nothing to clamp
            return wanted, np.zeros(len(wanted), dtype=bool)
        query = np.minimum(np.maximum(wanted, start), end - 1)
        return query, wanted != query


# How a feature is read: its column as a number/array, PNG frames, or strings.
_NUMERIC, _IMAGE, _STRING = 0, 1, 2


class SampleAssembler:
    """Builds samples of one dataset (its `meta`, and `deltas` = key -> integer offsets).

    `camera_keys`, when given, limits the cameras read (others are neither decoded nor returned).
    """

    def __init__(self, meta, deltas: dict[str, np.ndarray] | None, camera_keys: frozenset[str] | None = None):
        self.meta = meta
        # Keys with the same offsets (e.g. state and camera at [-0.1, 0]) share one window: its rows are
        # worked out once per sample. A key's window is its position in self.windows, or None.
        self.windows: list[_Window] = []
        by_offsets: dict[tuple, int] = {}
        slots = {}
        for key, offsets in (deltas or {}).items():
            signature = tuple(np.asarray(offsets, dtype=np.int64).tolist())
            if signature not in by_offsets:
                by_offsets[signature] = len(self.windows)
                self.windows.append(_Window(offsets))
            slots[key] = by_offsets[signature]
        self.tabular: list[tuple[str, str, int, int | None]] = []  # (key, its pad mask's key, kind, window)
        for key, ft in meta.features.items():
            dtype = ft["dtype"]
            if dtype == "video" or (dtype == "image" and camera_keys is not None and key not in camera_keys):
                continue
            kind = _IMAGE if dtype == "image" else _STRING if dtype in ("string", "language") else _NUMERIC
            self.tabular.append((key, f"{key}_is_pad", kind, slots.get(key)))
        self.videos = [
            (key, f"{key}_is_pad", slots.get(key))
            for key in meta.video_keys
            if camera_keys is None or key in camera_keys
        ]
        self.transformed = [key for key in meta.camera_keys if camera_keys is None or key in camera_keys]

    def _selections(self, contiguous: bool, row: int, to_rows, absolute: int, start: int, end: int) -> list:
        """Per window: (the rows it reads: a slice or an index array, is_pad or None when nothing is padded).
        `row` is `absolute`'s row; in a `contiguous` file, row + k is the row of absolute + k."""
        selections = []
        for win in self.windows:
            if contiguous and win.consecutive and absolute + win.lo >= start and absolute + win.hi < end:
                selections.append((slice(row + win.lo, row + win.hi + 1), None))
            else:
                query, is_pad = win.rows(absolute, start, end)
                selections.append((to_rows(query), is_pad))
        return selections

    def _pad_mask(self, slot: int, is_pad: np.ndarray | None) -> torch.Tensor:
        """A window's `<key>_is_pad` tensor, one per key (a sample's tensors share no memory)."""
        return torch.from_numpy(is_pad if is_pad is not None else np.zeros(self.windows[slot].n, bool))

    def __call__(
        self,
        loaded: LoadedFile,
        absolute: int,
        episode_index: int,
        episode_start: int,
        episode_end: int,
        decode: DecodeFn,
        image_transforms: Callable | None = None,
        out: dict[str, torch.Tensor] | None = None,
    ) -> dict:
        """The sample of global frame `absolute` of episode `episode_index` ([episode_start, episode_end)).

        `loaded` must hold every row of that episode (windows are clamped to it); `decode` is a DecodeFn;
        `image_transforms` is applied to each camera tensor. `out` (optional): key -> tensor that key's
        frames may be decoded into (see collate.prefill_batch).
        Returns feature -> tensor (windowed keys gain a leading T and a `<key>_is_pad` (T,) bool mask),
        plus "task" (str).
        """
        # At 96x96 the decode is ~0.13 ms, and each numpy/torch call here costs ~1 us alone and more in the
        # decoder's caches after it: so windows are slices where they can be, and masks are made from numpy.
        to_rows = loaded.episode_rows(episode_start, episode_end)
        row = to_rows(absolute)
        selections = (
            self._selections(loaded.contiguous, row, to_rows, absolute, episode_start, episode_end)
            if self.windows
            else ()
        )
        columns = loaded.columns
        item: dict = {}
        for key, pad_key, kind, slot in self.tabular:
            column = columns[key]
            if slot is not None:
                rows, is_pad = selections[slot]
                item[pad_key] = self._pad_mask(slot, is_pad)
                values = column[rows]
                if kind == _NUMERIC:  # a slice is a view of the column: copied; an index array gives a copy
                    item[key] = torch.from_numpy(values.copy() if is_pad is None else values)
                    continue
            else:
                values = column[row]
            if kind == _NUMERIC:
                item[key] = torch.from_numpy(np.array(values))  # a copy: column[row] is a view or a scalar
            elif kind == _IMAGE:
                frames = [decode_png(b, key) for b in (values if slot is not None else [values])]
                tensor = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float().div_(255.0)
                item[key] = tensor if slot is not None else tensor[0]
            else:
                item[key] = values.tolist() if slot is not None else values

        if self.videos:
            timestamps = columns["timestamp"]
            for key, pad_key, slot in self.videos:
                if slot is not None:
                    rows, is_pad = selections[slot]
                    times = timestamps[rows].tolist()  # float32 -> Python floats, exactly
                    item[pad_key] = self._pad_mask(slot, is_pad)
                else:
                    times = [float(timestamps[row])]
                # Like the reference, a one-frame window comes back without its time dim (C, H, W).
                item[key] = decode(key, episode_index, times, len(times) == 1, out.get(key) if out else None)

        if image_transforms is not None:
            for key in self.transformed:
                if key in item:
                    item[key] = image_transforms(item[key])
        task_index = int(columns["task_index"][row])
        tasks = self.meta.tasks
        if not 0 <= task_index < len(tasks):
            raise DatasetFormatError(
                f"{self.meta.root}/meta/tasks.parquet: no task with task_index {task_index} (frame {absolute})"
            )
        item["task"] = tasks[task_index]
        return item


def assemble_item(
    meta,
    loaded: LoadedFile,
    absolute: int,
    episode_index: int,
    episode_start: int,
    episode_end: int,
    deltas: dict[str, np.ndarray] | None,
    decode: DecodeFn,
    image_transforms: Callable | None = None,
    camera_keys: frozenset[str] | None = None,
) -> dict:
    """One sample, without keeping a `SampleAssembler` (which a dataset builds once and reuses)."""
    return SampleAssembler(meta, deltas, camera_keys)(
        loaded, absolute, episode_index, episode_start, episode_end, decode, image_transforms
    )
