"""Accuracy and speed of feature statistics (robotlearn.datasets.stats).

    python -m benchmarks.bench_stats [--seed 0] [--quick]

Accuracy: synthetic episodes in four dims (shifted normals, shifted uniforms, heavy-tailed Student t
with df=2, shifted normals with one +-50..100 glitch frame per episode), 30-400 frames each. For q01/q10/q50/q90/q99 of the pooled data it prints the error of
  ours        aggregate_stats over all per-episode stats at once (mixture of piecewise-linear CDFs)
  folded      aggregate_stats applied one episode at a time (aggregate(previous, episode))
  envelope    the reference's rule: min of per-episode q for q <= 0.5, max above
as |estimate - exact| / (exact q90 - exact q10), i.e. in units of the pooled 10-90% spread.

Speed: aggregate_stats for 100/1000 episodes x 2048 dims, compute_episode_stats, and the per-frame
cost of ImageStatsAccumulator.add and downsample_for_stats on 480x640 frames.
"""

import argparse
import sys
import time

import numpy as np

from robotlearn.datasets.stats import (
    QUANTILES,
    ImageStatsAccumulator,
    aggregate_stats,
    compute_episode_stats,
    downsample_for_stats,
)

DIMS = ("normal", "uniform", "heavy-t2", "glitch")
FEATURES = {"x": {"dtype": "float32", "shape": (len(DIMS),)}}


def make_episodes(rng: np.random.Generator, n_episodes: int) -> list[np.ndarray]:
    episodes = []
    for _ in range(n_episodes):
        n = int(rng.integers(30, 400))
        e = np.empty((n, len(DIMS)))
        e[:, 0] = rng.normal(rng.normal(0, 2), rng.uniform(0.3, 1.5), n)
        low = rng.uniform(-5, 0)
        e[:, 1] = rng.uniform(low, low + rng.uniform(1, 6), n)
        e[:, 2] = rng.standard_t(2, n) * rng.uniform(0.5, 2) + rng.normal(0, 1)
        e[:, 3] = rng.normal(rng.normal(0, 2), rng.uniform(0.3, 1.5), n)
        e[rng.integers(n), 3] = rng.choice([-1, 1]) * rng.uniform(50, 100)
        episodes.append(e)
    return episodes


def accuracy_table(n_episodes: int, seed: int) -> None:
    episodes = make_episodes(np.random.default_rng(seed), n_episodes)
    stats = [compute_episode_stats({"x": e}, FEATURES) for e in episodes]
    ours = aggregate_stats(stats)["x"]
    folded = stats[0]
    for s in stats[1:]:
        folded = aggregate_stats([folded, s])
    folded = folded["x"]
    data = np.concatenate(episodes)
    scale = np.quantile(data, 0.9, axis=0) - np.quantile(data, 0.1, axis=0)
    print(f"\n{n_episodes} episodes, {len(data)} frames (error / pooled q90-q10 spread)")
    print(f"| {'dim':9} | {'q':3} | {'exact':>9} | {'ours':>8} | {'folded':>8} | {'envelope':>8} |")
    print(f"|{'-' * 11}|{'-' * 5}|{'-' * 11}|{'-' * 10}|{'-' * 10}|{'-' * 10}|")
    for d, dim in enumerate(DIMS):
        for q, p in QUANTILES.items():
            exact = np.quantile(data[:, d], p)
            per_episode = np.array([s["x"][q][d] for s in stats])
            envelope = per_episode.min() if p <= 0.5 else per_episode.max()
            errs = [abs(v - exact) / scale[d] for v in (ours[q][d], folded[q][d], envelope)]
            print(f"| {dim:9} | {q:3} | {exact:9.3f} | {errs[0]:8.4f} | {errs[1]:8.4f} | {errs[2]:8.4f} |")


def synthetic_stats(rng: np.random.Generator, n_episodes: int, dims: int) -> list[dict]:
    """Per-episode stats of normal data with random means and scales (no raw data needed)."""
    z = np.quantile(rng.normal(size=200_000), list(QUANTILES.values()))
    out = []
    for _ in range(n_episodes):
        mu, sigma = rng.normal(0, 1, dims), rng.uniform(0.5, 2, dims)
        s = {"mean": mu, "std": sigma, "min": mu - 3.5 * sigma, "max": mu + 3.5 * sigma}
        s.update({q: mu + zq * sigma for q, zq in zip(QUANTILES, z)})
        s["count"] = np.array([int(rng.integers(100, 1000))], dtype=np.int64)
        out.append({"observation.environment_state": s})
    return out


def best_of(fn, repeats: int) -> tuple[float, float]:
    """Best wall-clock and best CPU (process) time of `repeats` calls, seconds."""
    wall, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return min(wall), min(cpu)


def speed_table(seed: int, quick: bool) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    for n_episodes in (100,) if quick else (100, 1000):
        stats = synthetic_stats(rng, n_episodes, 2048)
        rows.append(
            (f"aggregate_stats {n_episodes} eps x 2048 dims", best_of(lambda: aggregate_stats(stats), 3), 1, "s")
        )
    episode = {"x": rng.normal(size=(500, 2048)).astype(np.float32)}
    features = {"x": {"dtype": "float32", "shape": (2048,)}}
    rows.append(
        (
            "compute_episode_stats 500 frames x 2048 dims",
            best_of(lambda: compute_episode_stats(episode, features), 3),
            1,
            "s",
        )
    )
    frames = rng.integers(0, 256, size=(50, 480, 640, 3), dtype=np.uint8)
    acc = ImageStatsAccumulator()

    def add_all():
        for f in frames:
            acc.add(f)

    rows.append(("ImageStatsAccumulator.add 480x640 (per frame)", best_of(add_all, 3), len(frames), "ms"))

    def downsample_all():
        for f in frames:
            downsample_for_stats(f)

    rows.append(("downsample_for_stats 480x640 (per frame)", best_of(downsample_all, 3), len(frames), "ms"))
    print("\n| operation | wall | cpu |\n|---|---|---|")
    for name, (wall, cpu), per, unit in rows:
        k = 1e3 if unit == "ms" else 1.0
        print(f"| {name} | {wall / per * k:.4f} {unit} | {cpu / per * k:.4f} {unit} |")


def main(argv: list[str] | tuple = ()) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0, help="random seed for the synthetic episodes")
    parser.add_argument("--quick", action="store_true", help="100 episodes only (accuracy and speed)")
    args = parser.parse_args(list(argv))
    for n_episodes in (100,) if args.quick else (100, 1000):
        accuracy_table(n_episodes, args.seed)
    speed_table(args.seed, args.quick)


if __name__ == "__main__":
    main(sys.argv[1:])
