"""How fast the dataset viewer is written, and how big it is (issue 16: < 5 s and <= videos + 1 MB for 100 episodes).

    python -m benchmarks.bench_viewer [--episodes 100] [--length 60]

Records a synthetic dataset (robotlearn's writer, AV1, two cameras, 6-dim state and action), then times
`write_viewer` (HTML folder) and, with rerun-sdk installed, `write_rrd`, and prints sizes.
"""

import argparse
import tempfile
import time
from pathlib import Path

from robotlearn.datasets.synthetic import write_synthetic_dataset
from robotlearn.viewer import write_viewer


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--length", type=int, default=60, help="frames per episode")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ds"
        t = time.perf_counter()
        write_synthetic_dataset(
            root,
            num_episodes=args.episodes,
            episode_length=args.length,
            fps=10,
            state_dim=6,
            cameras={"top": (96, 96), "wrist": (64, 64)},
        )
        record_s = time.perf_counter() - t
        videos = folder_bytes(root / "videos")
        print(
            f"dataset: {args.episodes} episodes x {args.length} frames, 2 cameras, recorded in {record_s:.1f} s; "
            f"videos {videos / 1e6:.2f} MB"
        )
        print(f"| {'output':14} | {'write s':>7} | {'size MB':>8} | {'over videos MB':>14} |")
        print(f"|{'-' * 16}|{'-' * 9}|{'-' * 10}|{'-' * 16}|")
        t = time.perf_counter()
        result = write_viewer(root, Path(tmp) / "view")
        seconds = time.perf_counter() - t
        size = folder_bytes(result.output)
        print(f"| {'HTML viewer':14} | {seconds:7.2f} | {size / 1e6:8.2f} | {(size - videos) / 1e6:14.3f} |")
        try:
            from robotlearn.viewer import write_rrd

            t = time.perf_counter()
            summary = write_rrd(root, Path(tmp) / "ds.rrd")
            seconds = time.perf_counter() - t
            size = summary.path.stat().st_size
            print(f"| {'rerun .rrd':14} | {seconds:7.2f} | {size / 1e6:8.2f} | {(size - videos) / 1e6:14.3f} |")
        except ImportError as e:
            print(f"| rerun .rrd: skipped ({e}) |")


if __name__ == "__main__":
    main()
