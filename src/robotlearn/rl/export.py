"""An RL run's transitions as a LeRobotDataset: every step the learner received, episode by episode.

    export_steps("outputs/rl/pusht", "data/pusht_rl", fps=10)      # or `rl-learner --export_root=...`

Each step becomes a frame (its observation, the executed action, `next.reward`, `next.done`,
`intervention`), each (actor, episode) stream an episode, in the order they arrived. The result
is written by robotlearn's recorder-grade writer (crash-safe, readable by LeRobot) and loads back
into a replay buffer with `load_dataset`, so a run's data outlives the run: train BC on the
interventions, a reward classifier on the successes, or seed the next run's demo buffer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from robotlearn.rl.streams import StepLog


def _features(message: dict) -> dict:
    features = {}
    for key, value in message["steps"].items():
        if key.startswith("observation.") and value.ndim == 4:  # (n, C, H, W) frames -> a video feature
            c, h, w = value.shape[1:]
            features[key] = {"dtype": "video", "shape": (h, w, c), "names": ["height", "width", "channels"]}
        elif key.startswith("observation.") or key == "action":
            features[key] = {"dtype": "float32", "shape": (value.shape[1],), "names": None}
    features["next.reward"] = {"dtype": "float32", "shape": (1,), "names": None}
    features["next.done"] = {"dtype": "bool", "shape": (1,), "names": None}
    features["intervention"] = {"dtype": "bool", "shape": (1,), "names": None}
    return features


def export_steps(run_dir: str | Path, root: str | Path, fps: int, task: str = "", repo_id: str = "local/rl_run") -> int:
    """Writes the step log of the learner run at `run_dir` as a LeRobotDataset at `root` (which must
    not exist yet); returns the number of episodes written."""
    from robotlearn.datasets import LeRobotDataset

    log = StepLog(Path(run_dir) / "steps")
    streams: dict[tuple, list[dict]] = {}
    for actor, message in log.replay():
        streams.setdefault((actor, message["episode"]), []).append(message)
    if not streams:
        return 0
    first = next(iter(streams.values()))[0]
    features = _features(first)
    dataset = LeRobotDataset.create(repo_id, fps=fps, features=features, root=root)
    for messages in streams.values():
        for message in messages:
            steps = message["steps"]
            for i in range(len(steps["action"])):
                frame = {"task": task}
                for key, ft in features.items():
                    if key in ("next.reward", "next.done", "intervention"):
                        continue
                    value = np.asarray(steps[key][i])
                    frame[key] = value.transpose(1, 2, 0) if ft["dtype"] == "video" else value.astype(np.float32)
                frame["next.reward"] = np.array([steps["reward"][i]], np.float32)
                frame["next.done"] = np.array([bool(steps["terminated"][i])])
                frame["intervention"] = np.array([bool(steps["intervention"][i])])
                dataset.add_frame(frame)
        dataset.save_episode()
    dataset.finalize()
    return len(streams)
