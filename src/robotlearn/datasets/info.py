"""A dataset's summary and a check that every file it references is readable (`robotlearn dataset-info`)."""

from __future__ import annotations

from pathlib import Path

from robotlearn.datasets.errors import DatasetError, DatasetFormatError


def _open(root: str, repo_id: str):
    from robotlearn.datasets.lerobot_dataset import LeRobotDataset

    if not (Path(root) / "meta" / "info.json").is_file():
        what = "the folder does not exist" if not Path(root).exists() else "it has no meta/info.json"
        raise DatasetFormatError(
            f"No dataset at {root} ({what}): pass --root pointing to a LeRobotDataset folder "
            "(the one holding meta/info.json)"
        )
    return LeRobotDataset(repo_id, root=root, download=False)


def summarize(root: str, repo_id: str = "local/dataset") -> dict:
    """The dataset's summary (version, robot, fps, episodes, frames, tasks, cameras, features).

    Raises DatasetFormatError naming the file when the folder holds no readable dataset."""
    ds = _open(root, repo_id)
    meta = ds.meta
    return {
        "root": str(meta.root),
        "codebase_version": meta.info["codebase_version"],
        "robot_type": meta.robot_type,
        "fps": meta.fps,
        "episodes": meta.total_episodes,
        "frames": meta.total_frames,
        "duration_s": round(meta.total_frames / meta.fps, 2),
        "tasks": meta.tasks,
        "cameras": {k: meta.features[k]["shape"] for k in meta.camera_keys},
        "features": {k: {"dtype": f["dtype"], "shape": f["shape"]} for k, f in meta.features.items()},
    }


def validate(root: str, repo_id: str = "local/dataset") -> list[str]:
    """Read the first and last frame of every episode (all data files and videos); return problems found."""
    from tqdm import tqdm

    ds = _open(root, repo_id)
    problems = []
    for ep in tqdm(ds.meta.episodes, desc="validating episodes"):
        for idx in {ep["dataset_from_index"], ep["dataset_to_index"] - 1}:
            try:
                item = ds[idx]
                if int(item["episode_index"]) != ep["episode_index"]:
                    problems.append(
                        f"frame {idx}: episode_index {int(item['episode_index'])} but meta/episodes says {ep['episode_index']}"
                    )
            except (DatasetError, ValueError) as e:
                problems.append(f"episode {ep['episode_index']}, frame {idx}: {e}")
    return problems
