"""Synthetic datasets whose every value is predictable: for tests, benchmarks and trying the API.

Frame `f` of episode `e` has state[j] = e + f / 1000 + j / 10, action = state + 0.5, and camera
images filled with gray level (7 * e + 3 * f) % 256 (with a per-camera channel offset), so a reader
can check any sample without keeping the data around.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm


def expected_state(episode: int, frame: int, dim: int) -> np.ndarray:
    return (episode + frame / 1000 + np.arange(dim) / 10).astype(np.float32)


def expected_level(episode: int, frame: int, camera: int = 0) -> int:
    return (7 * episode + 3 * frame + 40 * camera) % 256


def synthetic_features(state_dim: int, cameras: dict[str, tuple[int, int]], camera_dtype: str = "video") -> dict:
    features = {
        "observation.state": {"dtype": "float32", "shape": (state_dim,), "names": [f"j{i}" for i in range(state_dim)]},
        "action": {"dtype": "float32", "shape": (state_dim,), "names": [f"j{i}" for i in range(state_dim)]},
    }
    for name, (h, w) in cameras.items():
        features[f"observation.images.{name}"] = {
            "dtype": camera_dtype,
            "shape": (h, w, 3),
            "names": ["height", "width", "channels"],
        }
    return features


def synthetic_frame(episode: int, frame: int, state_dim: int, cameras: dict[str, tuple[int, int]], task: str) -> dict:
    state = expected_state(episode, frame, state_dim)
    out = {"observation.state": state, "action": state + 0.5, "task": task}
    for c, (name, (h, w)) in enumerate(cameras.items()):
        out[f"observation.images.{name}"] = np.full((h, w, 3), expected_level(episode, frame, c), dtype=np.uint8)
    return out


def write_synthetic_dataset(
    root: str | Path,
    num_episodes: int = 3,
    episode_length: int | list[int] = 20,
    fps: int = 10,
    state_dim: int = 2,
    cameras: dict[str, tuple[int, int]] | None = None,
    use_videos: bool = True,
    tasks: tuple[str, ...] = ("task A", "task B"),
    progress: bool = False,
    **create_options,
):
    """Record a synthetic dataset at `root` with robotlearn's writer; returns the LeRobotDataset (write mode, finalized)."""
    from robotlearn.datasets.lerobot_dataset import LeRobotDataset

    cameras = {"top": (32, 48)} if cameras is None else cameras
    lengths = episode_length if isinstance(episode_length, list) else [episode_length] * num_episodes
    ds = LeRobotDataset.create(
        "synthetic/dataset",
        fps=fps,
        features=synthetic_features(state_dim, cameras),
        root=root,
        robot_type="synthetic",
        use_videos=use_videos,
        **{"video_when_full": "block", **create_options},
    )
    for e in tqdm(range(num_episodes), desc="recording synthetic episodes", disable=not progress):
        for f in range(lengths[e]):
            ds.add_frame(synthetic_frame(e, f, state_dim, cameras, tasks[e % len(tasks)]))
        ds.save_episode()
    ds.finalize()
    return ds
