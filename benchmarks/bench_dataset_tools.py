"""Speed of the dataset tools (robotlearn.datasets.tools) at realistic sizes.

    python -m benchmarks.bench_dataset_tools [--episodes 100] [--frames 30]

Builds two datasets of --episodes episodes (--frames frames each, two AV1 cameras 96x96 and 64x96,
state and action), then times: merging them without re-encoding; shallow and deep validate of the
merge; split into train/val and delete-episodes on it; a 1,000-episode dataset (made by merging
copies) under shallow validate (must-show: under 10 s) and merge; and, for comparison, re-encoding
one camera of one of the inputs.
"""

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

from robotlearn.datasets.synthetic import write_synthetic_dataset
from robotlearn.datasets.tools import delete_episodes, merge_datasets, split_dataset, validate
from robotlearn.datasets.tools.reencode import reencode

CAMERAS = {"front": (96, 96), "wrist": (64, 96)}


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--frames", type=int, default=30)
    args = parser.parse_args(sys.argv[1:])
    work = Path(tempfile.mkdtemp(prefix="bench_tools_"))
    rows = []
    try:
        for name in ("a", "b"):
            t, _ = timed(
                lambda name=name: write_synthetic_dataset(
                    work / name, num_episodes=args.episodes, episode_length=args.frames, cameras=CAMERAS
                )
            )
            print(f"recorded {work / name}: {args.episodes} episodes x {args.frames} frames in {t:.1f} s", flush=True)
        frames = 2 * args.episodes * args.frames
        t, _ = timed(lambda: merge_datasets([work / "a", work / "b"], work / "ab"))
        rows.append((f"merge 2 x {args.episodes} episodes ({frames} frames, 2 cameras), no re-encode", t))
        t, rep = timed(lambda: validate(work / "ab"))
        assert rep.ok, rep.lines()
        rows.append((f"validate shallow, {2 * args.episodes} episodes", t))
        t, rep = timed(lambda: validate(work / "ab", deep=True))
        assert rep.ok, rep.lines()
        rows.append(
            (f"validate --deep, {2 * args.episodes} episodes ({rep.checked['frames_decoded']} frames decoded)", t)
        )
        t, _ = timed(lambda: split_dataset(work / "ab", work / "split", fractions={"train": 0.9, "val": 0.1}))
        rows.append((f"split 90/10 of {2 * args.episodes} episodes", t))
        t, _ = timed(lambda: delete_episodes(work / "ab", "0-9", output=work / "deleted"))
        rows.append((f"delete 10 of {2 * args.episodes} episodes", t))
        copies = max(2, -(-1000 // (2 * args.episodes)))
        t, _ = timed(lambda: merge_datasets([work / "ab"] * copies, work / "big"))
        n_big = copies * 2 * args.episodes
        rows.append((f"merge {copies} copies -> {n_big} episodes", t))
        t, rep = timed(lambda: validate(work / "big"))
        assert rep.ok, rep.lines()
        rows.append((f"validate shallow, {n_big} episodes ({rep.checked['video_files']} video files)", t))
        t, _ = timed(lambda: reencode(work / "a", work / "a_h264", cameras="observation.images.front", vcodec="h264"))
        rows.append((f"reencode 1 camera of {args.episodes} episodes to h264 (for comparison)", t))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    width = max(len(r[0]) for r in rows)
    print(f"\n{'operation'.ljust(width)}  seconds")
    for what, t in rows:
        print(f"{what.ljust(width)}  {t:7.2f}")


if __name__ == "__main__":
    main()
