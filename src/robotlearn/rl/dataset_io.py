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


def episode_arrays(root, keys: list[str], repo_id: str = "local/dataset", episodes=None):
    """Yields (episode index, {key: (M, ...) array}) for the LeRobotDataset at `root`: cameras as
    (M, 3, H, W) uint8 (videos decoded in one call per episode and camera), other columns as numpy
    arrays; keys the dataset lacks are left out (callers decide on defaults)."""
    from robotlearn.datasets.features import decode_png, image_hwc_shape
    from robotlearn.datasets.metadata import LeRobotDatasetMetadata
    from robotlearn.datasets.table import DataFileCache
    from robotlearn.datasets.video import decode_frames

    meta = LeRobotDatasetMetadata(repo_id, root, download=False)
    cols = meta.episode_columns
    files = DataFileCache(meta.features)
    for ep in range(meta.total_episodes) if episodes is None else episodes:
        start, end = int(cols["dataset_from_index"][ep]), int(cols["dataset_to_index"][ep])
        loaded = files.get(meta.data_file(int(cols["data/chunk_index"][ep]), int(cols["data/file_index"][ep])))
        rows = loaded.rows(np.arange(start, end))
        out = {}
        for key in keys:
            ft = meta.features.get(key)
            if ft is None:
                continue
            if ft["dtype"] == "video":
                h, w, _ = image_hwc_shape(ft)
                times = float(cols[f"videos/{key}/from_timestamp"][ep]) + loaded.columns["timestamp"][rows]
                path = meta.video_file(
                    key, int(cols[f"videos/{key}/chunk_index"][ep]), int(cols[f"videos/{key}/file_index"][ep])
                )
                frames = np.empty((len(rows), 3, h, w), np.uint8)
                decode_frames(path, times.tolist(), episode_index=ep, channels_first=True, out=frames)
                out[key] = frames
            elif ft["dtype"] == "image":
                out[key] = np.stack([decode_png(b, key).transpose(2, 0, 1) for b in loaded.columns[key][rows]])
            else:
                out[key] = np.stack(loaded.columns[key][rows])
        yield ep, out


def dataset_features(root, repo_id: str = "local/dataset") -> dict:
    from robotlearn.datasets.metadata import LeRobotDatasetMetadata

    return LeRobotDatasetMetadata(repo_id, root, download=False).features


DEMO_REWARDS = ("recorded", "success")


def load_dataset(
    buffer: ReplayBuffer, root, repo_id: str = "local/dataset", episodes=None, reward: str = "recorded"
) -> int:
    """Adds the episodes of the LeRobotDataset at `root` to `buffer`; returns the transitions added.
    `reward="success"` rewards each transition 1.0 where its `next.success` is true, else 0.0,
    instead of by `next.reward`. Raises ConfigError when the dataset lacks a key the buffer stores."""
    if reward not in DEMO_REWARDS:
        raise ConfigError(f"--demo_reward={reward!r}: choose one of {', '.join(DEMO_REWARDS)}")
    features = dataset_features(root, repo_id)
    if reward == "success" and "next.success" not in features:
        raise ConfigError(f"{root}: --demo_reward=success needs a next.success column; the dataset has none")
    missing = [k for k in [*buffer.obs, "action"] if k not in features]
    if missing:
        raise ConfigError(f"{root}: the dataset has no {missing} (its features: {sorted(features)})")
    keys = [*buffer.obs, "action", REWARD, DONE, "next.success", "is_success", INTERVENTION]
    added = 0
    for _, arrays in episode_arrays(root, keys, repo_id, episodes):

        def column(key, default, arrays=arrays):
            m = len(arrays["action"])
            return np.asarray(arrays[key]).reshape(m, -1)[:, 0] if key in arrays else np.full(m, default)

        terminated = any(bool(column(k, False)[-1]) for k in (DONE, "next.success", "is_success"))
        frames = {k: arrays[k] if arrays[k].dtype == np.uint8 else arrays[k].astype(np.float32) for k in buffer.obs}
        added += buffer.add_episode(
            frames,
            arrays["action"].astype(np.float32),
            column("next.success", False).astype(np.float32) if reward == "success" else column(REWARD, 0.0),
            terminated,
            column(INTERVENTION, False).astype(bool),
        )
    return added
