"""Reinforcement learning: SAC's correctness anchor, the replay buffer's memory and loading speed.

    python benchmarks/bench_rl.py                  # all (Pendulum: 5 seeds x 20k steps, ~5-10 min per seed on 2 cores)
    python benchmarks/bench_rl.py --only pendulum --seeds 5 --steps 20000
    python benchmarks/bench_rl.py --only buffer
    python benchmarks/bench_rl.py --only reach --minutes 15     # SAC from pixels, then a classifier as the reward

1. SAC on Pendulum-v1, 20k environment steps per training seed, the RL Zoo's setting (learning
   rates 1e-3, batch 256, 256x256 MLPs): mean return of the deterministic policy over 10 held-out
   episodes per seed, and wall time. The RL Zoo's tuned SAC reports -176 +- 102 at 20k steps; a
   random policy gets about -1,200.
2. Replay buffer with two 128x128 cameras (gym-hil's PandaPickCube) + an 18-d state: bytes per
   transition, and the 100k-transition figure (HIL-SERL's default capacity; lerobot's float32
   buffer: about 79 GB).
3. Loading a 20,000-frame LeRobotDataset (two 128x128 AV1 cameras, 100 episodes) into the buffer.
4. Reach from pixels (envs/reach.py: the goal is only in the 32x32 camera), `rl-learner` + `rl-actor`
   as two processes at --fps 20 for --minutes each: (a) SAC with the task's dense reward; (b) a reward
   classifier trained on episodes recorded by rl-actor (--dataset.root: 40 of (a)'s policy, 105 of
   random actions; `train-reward-classifier`, its held-out accuracy), then SAC again from scratch with
   the classifier's verdict as the only reward (`--reward_classifier`, at --env.speed=0.2 so that
   random actions find the sparse reward at all); (c) the same reward for SAC acting on the state
   (`--env.with_state=true --policy.input_features=["observation.state"]`, the classifier still
   looking at the camera), success not ending the episode (`--classifier_ends_episode=false`).
   Each policy is evaluated by `robotlearn eval` on 50 seeds (100000+) that no run trained on, next to
   a random policy and the scripted expert on the same seeds; curves in each run's report.html.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
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


REACH_LEARNER = [
    "--env.type=reach",
    "--env.terminate_on_success=false",
    "--batch_size=128",
    "--learning_starts=1000",
    "--policy.encoder_channels=16",
    "--policy.augmentation_pad=2",
    "--policy.init_temperature=0.1",
    "--policy.discount=0.95",
    "--checkpoint_every_s=60",
]
REACH_STEPS = 40  # steps per evaluation episode (and per training episode of the dense run)


def _cli(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "robotlearn.scripts.cli", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"robotlearn {args[0]} failed: {done.stdout[-500:]} {done.stderr[-500:]}")


def _reach_run(
    out: Path, steps: int, fps: int, port: int, learner: list[str] = (), actor: list[str] = (), episode_steps: int = 40
) -> float:
    """One rl-learner + rl-actor pair on reach for `steps` actor steps (the learner stops once it has
    learned from them); returns the pair's wall time in seconds."""
    out.mkdir(parents=True, exist_ok=True)

    def start(*args: str, log: Path) -> subprocess.Popen:
        command = [sys.executable, "-m", "robotlearn.scripts.cli", *args]
        return subprocess.Popen(command, stdout=open(log, "a"), stderr=subprocess.STDOUT)

    t0 = time.perf_counter()
    learner_process = start(
        "rl-learner", *REACH_LEARNER, f"--output_dir={out / 'rl'}", f"--port={port}", *learner, log=out / "learner.log"
    )
    time.sleep(3)
    actor_process = start(
        "rl-actor",
        "--env.type=reach",
        "--env.terminate_on_success=false",
        f"--learner=127.0.0.1:{port}",
        f"--max_episode_steps={episode_steps}",
        f"--steps={steps}",
        f"--fps={fps}",
        *actor,
        log=out / "actor.log",
    )
    if actor_process.wait() != 0 or learner_process.wait() != 0:
        raise RuntimeError(f"the reach run in {out} failed: see its learner.log and actor.log")
    return time.perf_counter() - t0


def _reach_eval(policy: Path, out: Path, episodes: int, speed: float, env: tuple[str, ...] = ()) -> dict:
    _cli(
        "eval",
        "--env.type=reach",
        f"--env.speed={speed}",
        *env,
        f"--policy.path={policy}",
        f"--eval.n_episodes={episodes}",
        "--eval.seed=100000",
        f"--eval.max_steps={REACH_STEPS}",
        "--eval.n_videos=2",
        f"--output_dir={out}",
        "--progress=false",
        "--num_threads=1",
    )
    results = json.loads((out / "eval_info.json").read_text())
    return {**results["aggregated"], "steps": float(np.mean([e["steps"] for e in results["per_episode"]]))}


def _reach_baseline(act, episodes: int, speed: float) -> dict:
    """Success rate and mean steps of `act(env)` on the evaluation seeds, by rollout's rule (success at
    any step; the episode ends there)."""
    from robotlearn.envs import make_env

    env = make_env("reach", max_steps=REACH_STEPS, speed=speed)
    env.action_space.seed(0)
    successes, steps = [], []
    for i in range(episodes):
        env.reset(seed=100_000 + i)
        taken, done = 0, False
        while not done:
            _, _, terminated, truncated, info = env.step(act(env))
            taken, done = taken + 1, terminated or truncated
        successes.append(info["is_success"])
        steps.append(taken)
    return {"success_rate": float(np.mean(successes)), "steps": float(np.mean(steps))}


def reach(minutes: float, fps: int, episodes: int = 50) -> None:
    root = Path(__file__).resolve().parents[1] / "bench_data" / "rl_reach"
    shutil.rmtree(root, ignore_errors=True)
    steps = int(minutes * 60 * fps)
    print(
        f"\nReach from 32x32 pixels: two processes, {steps} actor steps at {fps} fps per run, eval on 50 seeds 100000+"
    )
    expert = lambda env: np.clip((env.goal - env.point) / env.speed, -1, 1)  # noqa: E731
    rows = []
    # (a) the task's dense reward, at the default speed 0.1
    for speed in (0.1, 0.2):
        rows.append(
            (
                f"random policy, speed {speed}",
                _reach_baseline(lambda env: env.action_space.sample(), episodes, speed),
                "-",
            )
        )
        rows.append((f"scripted expert, speed {speed}", _reach_baseline(expert, episodes, speed), "-"))
    wall = _reach_run(root / "dense", steps, fps, 8791, learner=[f"--max_transitions={steps}"])
    policy = root / "dense" / "rl" / "checkpoint" / "pretrained_model"
    rows.append(
        (
            "SAC, task's dense reward, speed 0.1",
            _reach_eval(policy, root / "dense" / "eval", episodes, 0.1),
            f"{wall:.0f} s",
        )
    )
    # the classifier's dataset, successes lasting (no success ending): 40 episodes of (a)'s policy (resumed,
    # training on), random actions (a fresh learner that never starts learning) in 30 episodes at speed 0.1
    # and 75 at speed 0.2 (more places, more near misses)
    data = root / "success_data"
    _reach_run(
        root / "dense", 1600, fps, 8793, [f"--max_transitions={steps + 1600}"], ["--seed=1", f"--dataset.root={data}"]
    )
    never = "--learning_starts=1000000"
    _reach_run(
        root / "random", 1200, 50, 8794, ["--max_transitions=1200", never], ["--seed=2", f"--dataset.root={data}"]
    )
    _reach_run(
        root / "random_fast",
        3000,
        100,
        8795,
        ["--max_transitions=3000", never, "--env.speed=0.2"],
        ["--seed=3", "--env.speed=0.2", f"--dataset.root={data}"],
    )
    classifier = root / "classifier"
    _cli(
        "train-reward-classifier",
        f"--dataset_root={data}",
        f"--output_dir={classifier}",
        "--classifier.channels=[8,16,32,32]",
        "--steps=3000",
    )
    held = json.loads((classifier / "metrics.json").read_text())["held_out"]
    # (b) from scratch, the classifier's verdict as the only reward. A sparse reward must first be found by
    # chance: random actions reach the goal in 0.3% of 40-step episodes at speed 0.1, 19% of 100-step ones
    # at speed 0.2, so (b) runs at speed 0.2 with 100-step training episodes
    wall = _reach_run(
        root / "classifier_run",
        steps,
        fps,
        8792,
        [f"--max_transitions={steps}", "--env.speed=0.2"],
        [f"--reward_classifier={classifier}", "--env.speed=0.2"],
        100,
    )
    policy = root / "classifier_run" / "rl" / "checkpoint" / "pretrained_model"
    result = _reach_eval(policy, root / "classifier_run" / "eval", episodes, 0.2)
    rows.append(("SAC, classifier's verdict the only reward, speed 0.2", result, f"{wall:.0f} s"))
    # (c) the same reward for a policy that acts on the state (point and goal positions) while the classifier
    # looks at the camera (HIL-SERL's usual split), success not ending the training episodes: it is rewarded
    # at every step it lasts. State updates are cheap: 50 actor steps per second
    state_steps = max(400, int(16000 * minutes / 15))
    with_state = ("--env.with_state=true", "--env.speed=0.2")
    wall = _reach_run(
        root / "classifier_state_run",
        state_steps,
        50,
        8796,
        [f"--max_transitions={state_steps}", *with_state, '--policy.input_features=["observation.state"]'],
        [f"--reward_classifier={classifier}", "--classifier_ends_episode=false", *with_state],
        100,
    )
    policy = root / "classifier_state_run" / "rl" / "checkpoint" / "pretrained_model"
    result = _reach_eval(policy, root / "classifier_state_run" / "eval", episodes, 0.2, ("--env.with_state=true",))
    rows.append(("SAC on state, classifier the only reward, speed 0.2", result, f"{wall:.0f} s"))
    print(f"{'policy (40-step episodes)':<54} {'success':>8} {'mean steps':>11} {'wall':>7}")
    for name, r, wall in rows:
        print(f"{name:<54} {100 * r['success_rate']:>7.0f}% {r['steps']:>11.1f} {wall:>7}")
    print(
        f"reward classifier: held-out accuracy {100 * held['accuracy']:.1f}% on {held['frames']} frames "
        f"(success recall {100 * held['success_recall']:.1f}%, failure recall {100 * held['failure_recall']:.1f}%)"
    )
    runs = ("dense", "classifier_run", "classifier_state_run")
    print("learning curves: " + ", ".join(str(root / r / "rl" / "report.html") for r in runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["pendulum", "buffer", "reach"], default=None)
    parser.add_argument("--minutes", type=float, default=15.0, help="reach: minutes of actor steps per run")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=20_000)
    args = parser.parse_args()
    if args.only in (None, "buffer"):
        buffer_memory()
        load_speed()
    if args.only in (None, "pendulum"):
        pendulum(args.seeds, args.steps)
    if args.only in (None, "reach"):
        reach(args.minutes, fps=20)


if __name__ == "__main__":
    main()
