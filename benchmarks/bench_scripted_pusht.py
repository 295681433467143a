"""Success rate of the scripted PushT expert (gym-pusht success: coverage > 0.95 within 300 steps).

python benchmarks/bench_scripted_pusht.py --episodes 50 --seed 0
python benchmarks/bench_scripted_pusht.py --episodes 50 --seed 0 --max_target_distance 30   # targets within 30 px
python benchmarks/bench_scripted_pusht.py --episodes 50 --seed 0 --expert feedback   # the state-feedback expert
"""

import argparse
import time

import numpy as np

from robotlearn.envs.pusht import PushTEnv
from robotlearn.envs.pusht_expert import PushTExpert, PushTExpertConfig
from robotlearn.envs.pusht_feedback_expert import PushTFeedbackExpert, PushTFeedbackExpertConfig


def run_episode(env: PushTEnv, expert, seed: int) -> tuple[bool, int, float]:
    env.reset(seed=seed)
    expert.reset()
    best = 0.0
    for step in range(env.max_steps):
        action = expert.act(env.get_state(), env.agent_velocity(), env.coverage())
        _, _, terminated, truncated, info = env.step(action)
        best = max(best, info["coverage"])
        if info["is_success"]:
            return True, step + 1, best
        if truncated:
            break
    return False, env.max_steps, best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0, help="episode i uses seed + i")
    parser.add_argument(
        "--expert",
        choices=("planner", "feedback"),
        default="planner",
        help="planner: PushTExpert (commits to simulated pushes); feedback: PushTFeedbackExpert (a function of the state)",
    )
    parser.add_argument(
        "--max_target_distance",
        type=float,
        default=None,
        help="cap on the target's distance from the agent, px (0: none; default: the expert's, 0 planner, 30 feedback)",
    )
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    env = PushTEnv(max_steps=300)
    if args.expert == "feedback":
        cap = (
            PushTFeedbackExpertConfig.max_target_distance
            if args.max_target_distance is None
            else args.max_target_distance
        )
        expert = PushTFeedbackExpert(PushTFeedbackExpertConfig(max_target_distance=cap))
    else:
        cap = PushTExpertConfig.max_target_distance if args.max_target_distance is None else args.max_target_distance
        expert = PushTExpert(PushTExpertConfig(max_target_distance=cap))
    results = []
    t0 = time.perf_counter()
    for i in range(args.episodes):
        ok, steps, best = run_episode(env, expert, args.seed + i)
        results.append((ok, steps, best))
        if args.verbose:
            print(
                f"episode {i:3d} seed {args.seed + i:4d}: success={ok} steps={steps} max_coverage={best:.3f}",
                flush=True,
            )
    ok = np.array([r[0] for r in results])
    steps = np.array([r[1] for r in results])
    cov = np.array([r[2] for r in results])
    print("| episodes | success rate | mean steps (successes) | mean max coverage | wall time (s) |")
    print("|---|---|---|---|---|")
    mean_steps = steps[ok].mean() if ok.any() else float("nan")
    print(
        f"| {len(results)} | {ok.mean():.0%} | {mean_steps:.0f} | {cov.mean():.3f} | {time.perf_counter() - t0:.0f} |"
    )


if __name__ == "__main__":
    main()
