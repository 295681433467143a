"""An RL run's steps as a LeRobotDataset: written by the actor as it goes, or exported from the learner.

    writer = EpisodeWriter.open("data/pusht_rl", fps=10, step=first_step)   # creates, or resumes
    writer.add(step); ...; writer.save_episode(estop=False)                 # durable at once
    export_steps("outputs/rl/pusht", "data/pusht_rl", fps=10)                # or `rl-learner --export_root=...`

Each step becomes a frame: its observation, the executed action (the policy's or the human's,
after clipping), `next.reward`, `next.done` (termination), `intervention` and `estop` (True on
the last frame of an episode the emergency stop ended). The actor's `--dataset.root` writes each
finished episode the moment it ends, through the recorder's writer (`LeRobotDataset.create` /
`resume`; every `save_episode()` is durable at once), so a killed actor loses at most the episode
in progress, and a restarted one appends to the same dataset. `export_steps` writes every step
the learner received, each (actor, episode) stream an episode. Both load back into a replay
buffer with `load_dataset`: train BC on the interventions, a reward classifier on the successes,
or seed the next run's demo buffer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from robotlearn.errors import ConfigError
from robotlearn.rl.streams import StepLog

FLAGS = ("next.reward", "next.done", "intervention", "estop")


def step_features(step: dict, success: bool = False) -> dict:
    """Dataset features of one actor step (observation keys with per-step arrays: (C, H, W) uint8
    frames become video features, vectors float32), `action`, the flag columns and, with
    `success`, `next.success` (what the task reported after the step: the reward classifier's labels)."""
    features = {}
    for key, value in step.items():
        value = np.asarray(value)
        if key.startswith("observation.") and value.ndim == 3:  # (C, H, W) frames -> a video feature
            c, h, w = value.shape
            features[key] = {"dtype": "video", "shape": (h, w, c), "names": ["height", "width", "channels"]}
        elif key.startswith("observation.") or key == "action":
            features[key] = {"dtype": "float32", "shape": (value.size,), "names": None}
    features["next.reward"] = {"dtype": "float32", "shape": (1,), "names": None}
    for flag in FLAGS[1:] + (("next.success",) if success else ()):
        features[flag] = {"dtype": "bool", "shape": (1,), "names": None}
    return features


class EpisodeWriter:
    """Frames of actor steps into a LeRobotDataset, one `save_episode()` per finished episode."""

    def __init__(self, dataset, task: str = ""):
        self.dataset = dataset
        self.task = task
        self.features = {
            k: ft for k, ft in dataset.meta.features.items() if k.startswith("observation.") or k == "action"
        }
        self.frames = 0  # in the episode in progress

    @classmethod
    def open(
        cls,
        root: str | Path,
        fps: int,
        step: dict,
        repo_id: str = "local/rl_run",
        task: str = "rl",
        success: bool = False,
        **create_options,
    ) -> EpisodeWriter:
        """Creates the dataset at `root` for steps shaped like `step` (with a `next.success` column when
        `success`), or resumes the one there (after a crash: uncommitted leftovers are dropped).
        Raises ConfigError when the existing one was written for other features or another fps."""
        from robotlearn.datasets import LeRobotDataset

        root = Path(root)
        features = step_features(step, success)
        if (root / "meta" / "info.json").is_file():
            dataset = LeRobotDataset.resume(repo_id, root)
            ours = set(features) | set(FLAGS) | {"next.success"}
            have = {k: list(v["shape"]) for k, v in dataset.meta.features.items() if k in ours}
            want = {k: list(v["shape"]) for k, v in features.items()}
            if have != want or dataset.meta.fps != fps:
                dataset.finalize()
                raise ConfigError(
                    f"--dataset.root={root} holds {sorted(have)} at {dataset.meta.fps} fps; this run writes "
                    f"{sorted(want)} at {fps} fps: choose another --dataset.root"
                )
        else:
            dataset = LeRobotDataset.create(repo_id, fps=fps, features=features, root=root, **create_options)
        return cls(dataset, task)

    @property
    def episodes(self) -> int:
        """Episodes saved in the dataset (earlier sessions' included)."""
        return self.dataset.meta.total_episodes

    def add(self, step: dict, estop: bool = False, success: bool = False) -> None:
        """Buffers one step (as the actor sends it: observation keys, action, reward, terminated,
        intervention) as a frame; `success` fills `next.success` where the dataset has it."""
        frame = {"task": self.task}
        for key, ft in self.features.items():
            value = np.asarray(step[key])
            frame[key] = value if ft["dtype"] == "video" else value.astype(np.float32).reshape(-1)
        frame["next.reward"] = np.array([step["reward"]], np.float32)
        frame["next.done"] = np.array([bool(step["terminated"])])
        frame["intervention"] = np.array([bool(step["intervention"])])
        frame["estop"] = np.array([estop])
        if "next.success" in self.dataset.meta.features:
            frame["next.success"] = np.array([success])
        self.dataset.add_frame(frame)
        self.frames += 1

    def save_episode(self) -> int | None:
        """Writes the buffered episode durably; returns its index (None when no frame is buffered)."""
        if self.frames == 0:
            return None
        self.frames = 0
        return self.dataset.save_episode()

    def close(self) -> None:
        """Drops an unfinished episode and stops the writer's background work."""
        if self.frames:
            self.dataset.clear_episode_buffer()
            self.frames = 0
        self.dataset.finalize()


def export_steps(run_dir: str | Path, root: str | Path, fps: int, task: str = "", repo_id: str = "local/rl_run") -> int:
    """Writes the step log of the learner run at `run_dir` as a LeRobotDataset at `root` (which must
    not exist yet); returns the number of episodes written."""
    if Path(root).exists() and any(Path(root).iterdir()):
        raise FileExistsError(f"{root} already exists; export_steps writes a new dataset: choose another root")
    log = StepLog(Path(run_dir) / "steps")
    streams: dict[tuple, list[dict]] = {}
    for actor, message in log.replay():
        streams.setdefault((actor, message["episode"]), []).append(message)
    if not streams:
        return 0
    first = next(iter(streams.values()))[0]["steps"]
    writer = EpisodeWriter.open(root, fps, {k: v[0] for k, v in first.items()}, repo_id=repo_id, task=task)
    for messages in streams.values():
        for message in messages:
            steps = message["steps"]
            for i in range(len(steps["action"])):
                writer.add({k: v[i] for k, v in steps.items()})
        writer.save_episode()
    writer.close()
    return len(streams)
