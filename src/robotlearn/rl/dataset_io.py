"""LeRobotDataset <-> replay buffer, in bulk.

    buffer = ReplayBuffer(features, action_dim, capacity)
    load_dataset(buffer, "data/pusht_demos")               # every episode, one vectorized write each

Loading reads each data file once (pyarrow, all columns as arrays) and each camera's frames of an
episode in one decoder call (sequential decoding, not one seek per `ds[i]`). Rewards come from
`next.reward`, termination from `next.done` on an episode's last frame (a dataset without them:
reward 0, and the last frame terminal when `next.success`/`is_success` says so), human
interventions from an `intervention` column when there is one.
"""

from __future__ import annotations

import numpy as np

from robotlearn.errors import ConfigError
from robotlearn.rl.buffer import ReplayBuffer

REWARD, DONE, INTERVENTION = "next.reward", "next.done", "intervention"


def load_dataset(buffer: ReplayBuffer, root, repo_id: str = "local/dataset", episodes=None) -> int:
    """Adds the episodes of the LeRobotDataset at `root` to `buffer`; returns the transitions added.
    Raises ConfigError when the dataset lacks a key the buffer stores."""
    from robotlearn.datasets.features import decode_png, image_hwc_shape
    from robotlearn.datasets.metadata import LeRobotDatasetMetadata
    from robotlearn.datasets.table import DataFileCache
    from robotlearn.datasets.video import decode_frames

    meta = LeRobotDatasetMetadata(repo_id, root, download=False)
    missing = [k for k in [*buffer.obs, "action"] if k not in meta.features]
    if missing:
        raise ConfigError(f"{root}: the dataset has no {missing} (its features: {sorted(meta.features)})")
    cols = meta.episode_columns
    files = DataFileCache(meta.features)
    added = 0
    for ep in range(meta.total_episodes) if episodes is None else episodes:
        start, end = int(cols["dataset_from_index"][ep]), int(cols["dataset_to_index"][ep])
        loaded = files.get(meta.data_file(int(cols["data/chunk_index"][ep]), int(cols["data/file_index"][ep])))
        rows = loaded.rows(np.arange(start, end))
        frames = {}
        for key in buffer.obs:
            ft = meta.features[key]
            if ft["dtype"] == "video":
                h, w, _ = image_hwc_shape(ft)
                times = float(cols[f"videos/{key}/from_timestamp"][ep]) + loaded.columns["timestamp"][rows]
                path = meta.video_file(
                    key, int(cols[f"videos/{key}/chunk_index"][ep]), int(cols[f"videos/{key}/file_index"][ep])
                )
                out = np.empty((len(rows), 3, h, w), np.uint8)
                decode_frames(path, times.tolist(), episode_index=ep, channels_first=True, out=out)
                frames[key] = out
            elif ft["dtype"] == "image":
                frames[key] = np.stack([decode_png(b, key).transpose(2, 0, 1) for b in loaded.columns[key][rows]])
            else:
                frames[key] = np.stack(loaded.columns[key][rows]).astype(np.float32)
        actions = np.stack(loaded.columns["action"][rows]).astype(np.float32)
        rewards = _column(loaded, REWARD, rows, 0.0)
        terminated = bool(_column(loaded, DONE, rows, False)[-1]) or bool(
            _column(loaded, "next.success", rows, False)[-1] or _column(loaded, "is_success", rows, False)[-1]
        )
        interventions = _column(loaded, INTERVENTION, rows, False).astype(bool)
        added += buffer.add_episode(frames, actions, rewards, terminated, interventions)
    return added


def _column(loaded, key: str, rows: np.ndarray, default) -> np.ndarray:
    if key not in loaded.columns:
        return np.full(len(rows), default)
    return np.asarray(loaded.columns[key][rows]).reshape(len(rows), -1)[:, 0]
