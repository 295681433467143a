"""Reinforcement learning: SAC's correctness anchor, the replay buffer's memory and loading speed.

    python benchmarks/bench_rl.py                  # all (Pendulum: 5 seeds x 20k steps, ~5-10 min per seed on 2 cores)
    python benchmarks/bench_rl.py --only pendulum --seeds 5 --steps 20000
    python benchmarks/bench_rl.py --only buffer

1. SAC on Pendulum-v1, 20k environment steps per training seed, the RL Zoo's setting (learning
   rates 1e-3, batch 256, 256x256 MLPs): mean return of the deterministic policy over 10 held-out
   episodes per seed, and wall time. The RL Zoo's tuned SAC reports -176 +- 102 at 20k steps; a
   random policy gets about -1,200.
2. Replay buffer with two 128x128 cameras (gym-hil's PandaPickCube) + an 18-d state: bytes per
   transition, and the 100k-transition figure (HIL-SERL's default capacity; lerobot's float32
   buffer: about 79 GB).
3. Loading a 20,000-frame LeRobotDataset (two 128x128 AV1 cameras, 100 episodes) into the buffer.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TWO_CAMERAS = {
    "observation.images.front": {"shape": [3, 128, 128], "dtype": "video"},
    "observation.images.wrist": {"shape": [3, 128, 128], "dtype": "video"},
    "observation.state": {"shape": [18], "dtype": "float32"},
}


def pendulum(seeds: int, steps: int) -> None:
    from robotlearn.rl.online import SACTrainConfig, train_sac

    print(f"\nSAC on Pendulum-v1: {steps} environment steps per seed, 10 evaluation episodes each (seeds 10000+)")
    print(f"{'seed':>4} {'eval return':>12} {'last 10 train':>14} {'wall s':>7} {'updates':>8}")
    means = []
    for seed in range(seeds):
        r = train_sac(SACTrainConfig(steps=steps, seed=seed))
        means.append(r.eval_return_mean)
        print(
            f"{seed:>4} {r.eval_return_mean:>12.1f} {np.mean(r.train_returns[-10:]):>14.1f} "
            f"{r.wall_s:>7.0f} {r.updates:>8}",
            flush=True,
        )
    print(
        f"mean over {seeds} training seeds: {np.mean(means):.1f} +- {np.std(means):.1f} "
        f"(target >= -200; RL Zoo SAC -176 +- 102)"
    )


def buffer_memory() -> None:
    from robotlearn.rl.buffer import ReplayBuffer

    buffer = ReplayBuffer(TWO_CAMERAS, action_dim=4, capacity=1000)
    per_frame = buffer.bytes_per_frame
    # 100k transitions in episodes of 100 steps: one extra frame per episode for its last observation
    frames = 100_000 + 100_000 // 100
    print(
        f"\nReplay buffer, two 128x128 cameras + 18-d state: {per_frame / 1e3:.1f} kB per frame; 100k transitions "
        f"(episodes of 100) = {per_frame * frames / 1e9:.2f} GB (target <= 12 GB; float32 images, next_state "
        f"stored twice: {(2 * 2 * 4 * 3 * 128 * 128) * 100_000 / 1e9:.0f} GB)"
    )


def load_speed(frames: int = 20_000, episodes: int = 100) -> None:
    from robotlearn.datasets.synthetic import write_synthetic_dataset
    from robotlearn.rl.buffer import ReplayBuffer
    from robotlearn.rl.dataset_io import load_dataset

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_synthetic_dataset(
            Path(tmp) / "ds",
            num_episodes=episodes,
            episode_length=frames // episodes,
            state_dim=18,
            cameras={"front": (128, 128), "wrist": (128, 128)},
        )
        record_s = time.perf_counter() - t0
        buffer = ReplayBuffer(TWO_CAMERAS, action_dim=18, capacity=frames + episodes)
        t0 = time.perf_counter()
        n = load_dataset(buffer, Path(tmp) / "ds")
        load_s = time.perf_counter() - t0
    print(
        f"\nLoading a {frames:,}-frame dataset ({episodes} episodes, two 128x128 AV1 cameras) into the buffer: "
        f"{load_s:.1f} s ({frames / load_s:,.0f} frames/s, {n:,} transitions); recording it took {record_s:.0f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["pendulum", "buffer"], default=None)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20_000)
    args = parser.parse_args()
    if args.only in (None, "buffer"):
        buffer_memory()
        load_speed()
    if args.only in (None, "pendulum"):
        pendulum(args.seeds, args.steps)


if __name__ == "__main__":
    main()
