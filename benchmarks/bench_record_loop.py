"""Timing of record_loop at a fixed rate on simulated robots (wall clock, real video encoding).

    python benchmarks/bench_record_loop.py --seconds 10 --fps 30

Rows: sim_pusht (one 96x96 camera) with the scripted expert (whose re-planning costs spikes of
tens of ms), then with a constant target (keyboard teleop, no keys), recording to MP4; sim_arm with a
640x480 synthetic camera and the scripted leader, recording to MP4; sim_pusht without a dataset.
Columns are from LoopStats: mean period error, p99 / max |period - 1/fps|, work per cycle, overruns.
"""

import argparse
import tempfile
from pathlib import Path

from robotlearn.datasets import LeRobotDataset
from robotlearn.recording import hw_to_dataset_features, record_loop
from robotlearn.recording.keyboard import new_events
from robotlearn.robots import make_robot
from robotlearn.teleoperators import make_teleoperator


def run(name, robot, teleop, fps, seconds, root: Path | None, vcodec: str):
    dataset = None
    if root is not None:
        feats = {
            **hw_to_dataset_features(robot.action_features, "action"),
            **hw_to_dataset_features(robot.observation_features, "observation"),
        }
        dataset = LeRobotDataset.create("bench/loop", fps, feats, root=root, robot_type=robot.name, vcodec=vcodec)
    robot.connect()
    teleop.connect()
    stats = record_loop(
        robot, new_events(), fps=fps, teleop=teleop, dataset=dataset, control_time_s=seconds, single_task="bench"
    )
    if dataset is not None:
        dataset.save_episode()
        dataset.finalize()
    teleop.disconnect()
    robot.disconnect()
    print(
        f"| {name} | {stats.frames} | {stats.measured_fps:.2f} | {stats.mean_period_error_ms:+.3f} | "
        f"{stats.p99_jitter_ms:.3f} | {stats.max_jitter_ms:.3f} | {stats.mean_work_ms:.2f} | {stats.overruns} |",
        flush=True,
    )
    return stats


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--vcodec", default="libsvtav1")
    args = parser.parse_args()
    print(f"record_loop at {args.fps} fps for {args.seconds:g} s per row (vcodec {args.vcodec})\n")
    print(
        "| setup | frames | measured Hz | mean period error (ms) | p99 jitter (ms) | max jitter (ms) | work (ms/cycle) | overruns |"
    )
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        robot = make_robot("sim_pusht", seed=0)
        run(
            "sim_pusht + 96x96 camera, scripted expert, MP4",
            robot,
            make_teleoperator("scripted_pusht", robot=robot),
            args.fps,
            args.seconds,
            Path(tmp) / "a",
            args.vcodec,
        )
        robot = make_robot("sim_pusht", seed=0)
        run(
            "sim_pusht + 96x96 camera, fixed target (no planning), MP4",
            robot,
            make_teleoperator("keyboard", robot=robot),
            args.fps,
            args.seconds,
            Path(tmp) / "c",
            args.vcodec,
        )
        robot = make_robot(
            "sim_arm",
            image_size=0,
            fps=args.fps,
            cameras={"front": {"type": "sim", "width": 640, "height": 480, "fps": args.fps}},
        )
        run(
            "sim_arm + 640x480 sim camera, scripted leader, MP4",
            robot,
            make_teleoperator("sim_arm_leader", fps=args.fps),
            args.fps,
            args.seconds,
            Path(tmp) / "b",
            args.vcodec,
        )
        robot = make_robot("sim_pusht", seed=0)
        run(
            "sim_pusht + 96x96 camera, no dataset",
            robot,
            make_teleoperator("scripted_pusht", robot=robot),
            args.fps,
            args.seconds,
            None,
            args.vcodec,
        )


if __name__ == "__main__":
    main()
