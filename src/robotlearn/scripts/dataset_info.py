"""`robotlearn dataset-info`: summarize a dataset and check that every file it references is readable.

    robotlearn dataset-info --root=path/to/dataset [--validate=true] [--json=false]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from robotlearn.configs import parse_config


@dataclass
class DatasetInfoArgs:
    root: str = field(default="", metadata={"help": "Dataset folder (holding meta/info.json)."})
    repo_id: str = field(default="local/dataset", metadata={"help": "Dataset name, used only for display."})
    validate: bool = field(default=True, metadata={"help": "Read every data file and one frame of every episode and camera."})
    json: bool = field(default=False, metadata={"help": "Print the summary as JSON."})


def summarize(root: str, repo_id: str = "local/dataset") -> dict:
    from robotlearn.datasets import LeRobotDataset

    ds = LeRobotDataset(repo_id, root=root, download=False)
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

    from robotlearn.datasets import DatasetError, LeRobotDataset

    ds = LeRobotDataset(repo_id, root=root, download=False)
    problems = []
    for ep in tqdm(ds.meta.episodes, desc="validating episodes"):
        for idx in {ep["dataset_from_index"], ep["dataset_to_index"] - 1}:
            try:
                item = ds[idx]
                if int(item["episode_index"]) != ep["episode_index"]:
                    problems.append(f"frame {idx}: episode_index {int(item['episode_index'])} but meta/episodes says {ep['episode_index']}")
            except (DatasetError, ValueError) as e:
                problems.append(f"episode {ep['episode_index']}, frame {idx}: {e}")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = parse_config(DatasetInfoArgs, argv, prog="robotlearn dataset-info", description=__doc__)
    if not args.root:
        print("robotlearn dataset-info: --root is required (see --help)")
        return 2
    summary = summarize(args.root, args.repo_id)
    problems = validate(args.root, args.repo_id) if args.validate else []
    if args.json:
        print(json.dumps({**summary, "problems": problems}, indent=2))
    else:
        for key, value in summary.items():
            print(f"{key:>16}: {value}")
        if args.validate:
            print(f"{'validation':>16}: " + ("OK" if not problems else f"{len(problems)} problem(s)"))
            for p in problems:
                print(f"  - {p}")
    return 1 if problems else 0
