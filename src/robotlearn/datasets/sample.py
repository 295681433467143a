"""One sample dict from an episode's loaded rows: windows, pad masks, images, video frames, task.

`assemble_item` is the part of reading a frame that does not care where the rows came from: the
map-style `LeRobotDataset` loads whole data files, `StreamingLeRobotDataset` loads one episode's
row group at a time over fsspec. Both must return identical samples (same keys, shapes, dtypes,
windows and `<key>_is_pad` masks), so the assembly lives here once.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from robotlearn.datasets.errors import DatasetFormatError
from robotlearn.datasets.features import decode_png
from robotlearn.datasets.table import LoadedFile
from robotlearn.datasets.windows import window

# decode(key, episode_index, times_in_episode_s (T,), squeeze) -> (C, H, W) or (T, C, H, W) tensor
DecodeFn = Callable[[str, int, np.ndarray, bool], torch.Tensor]


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
    """The sample of global frame `absolute` of episode `episode_index` ([episode_start, episode_end)).

    `loaded` must hold every row of that episode (windows are clamped to it); `meta` is a
    `LeRobotDatasetMetadata`; `deltas` maps keys to integer frame offsets (see windows.py).
    `camera_keys`, when given, limits the cameras read (others are neither decoded nor returned).
    Returns feature -> tensor (windowed keys gain a leading T and a `<key>_is_pad` (T,) bool mask),
    plus "task" (str).
    """
    row = int(loaded.rows(np.array([absolute]))[0])
    item: dict = {}
    windows: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if deltas is not None:
        for key, offsets in deltas.items():
            windows[key] = window(absolute, episode_start, episode_end, offsets)

    for key, ft in meta.features.items():
        dtype = ft["dtype"]
        if dtype == "video" or (dtype == "image" and camera_keys is not None and key not in camera_keys):
            continue
        column = loaded.columns[key]
        if key in windows:
            query, is_pad = windows[key]
            values = column[loaded.rows(query)]
            item[f"{key}_is_pad"] = torch.from_numpy(is_pad)
        else:
            values = column[row]
        if dtype == "image":
            frames = [decode_png(b, key) for b in (values if key in windows else [values])]
            tensor = torch.from_numpy(np.stack(frames)).permute(0, 3, 1, 2).float().div_(255.0)
            item[key] = tensor if key in windows else tensor[0]
        elif dtype in ("string", "language"):
            item[key] = values.tolist() if key in windows else values
        else:
            item[key] = torch.from_numpy(np.array(values))

    if meta.video_keys:
        timestamps = loaded.columns["timestamp"]
        for key in meta.video_keys:
            if camera_keys is not None and key not in camera_keys:
                continue
            if key in windows:
                query, is_pad = windows[key]
                times = timestamps[loaded.rows(query)].astype(np.float64)
                item[f"{key}_is_pad"] = torch.from_numpy(is_pad)
            else:
                times = np.array([timestamps[row]], dtype=np.float64)
            # Like the reference, a one-frame window comes back without its time dim (C, H, W).
            item[key] = decode(key, episode_index, times, len(times) == 1)

    if image_transforms is not None:
        for key in meta.camera_keys:
            if key in item:
                item[key] = image_transforms(item[key])
    task_index = int(loaded.columns["task_index"][row])
    if not 0 <= task_index < len(meta.tasks):
        raise DatasetFormatError(
            f"{meta.root}/meta/tasks.parquet: no task with task_index {task_index} (frame {absolute})"
        )
    item["task"] = meta.tasks[task_index]
    return item
