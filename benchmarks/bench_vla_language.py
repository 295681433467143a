"""Does a trained language-conditioned policy use its instruction? (issue 13, must-show 1)

For each task of language PushT, on the same reset seeds (disjoint from the demonstrations'):
  - the policy with the episode's true instruction, worded with the held-out paraphrases only;
  - the policy with a random instruction instead (one of the K tasks' held-out wordings, drawn per
    episode): if the policy follows language, its success falls toward 1/K of the true rate;
  - the scripted expert, the benchmark's ceiling.

    python benchmarks/bench_vla_language.py --policy_path outputs/train/vla/checkpoints/last/pretrained_model \
        --tasks red_top_left,green_top_right,blue_bottom_left,red_bottom_right --episodes 50 --workers 2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from robotlearn.envs.configs import LangPushTEnvConfig
from robotlearn.envs.lang_pusht import instructions
from robotlearn.evaluation import evaluate_policy
from robotlearn.evaluation.expert import LangPushTExpertPolicy


class RandomInstruction:
    """`policy` with each episode's instruction replaced by one drawn uniformly from `choices` (with torch's
    RNG, which evaluate_policy seeds per episode, so episode i draws the same one in any process)."""

    def __init__(self, policy, choices: list[str]):
        self.policy, self.choices = policy, choices
        self.config, self.device = policy.config, policy.device
        self.instruction = choices[0]

    def eval(self):
        self.policy.eval()
        return self

    def reset(self) -> None:
        self.policy.reset()
        self.instruction = self.choices[int(torch.randint(len(self.choices), (1,)))]

    def select_action(self, batch: dict):
        return self.policy.select_action({**batch, "task": [self.instruction]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--policy_path", required=True)
    parser.add_argument(
        "--tasks", required=True, help="comma-separated lang_pusht task names the policy was trained on"
    )
    parser.add_argument("--episodes", type=int, default=50, help="episodes per task and condition")
    parser.add_argument("--seed", type=int, default=300_000, help="episode i of every task uses reset seed seed + i")
    parser.add_argument("--max_steps", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--output", default=None, help="write the results as JSON here")
    args = parser.parse_args()

    from robotlearn.policies import make_policy_from_pretrained

    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    policy = make_policy_from_pretrained(args.policy_path, device="cpu")
    # one held-out wording per task, drawn like the env draws them (any of its held-out templates)
    choices = [text for t in tasks for text in instructions(t, "heldout")]
    conditions = {
        "true instruction": policy,
        "random instruction": RandomInstruction(policy, choices),
        "scripted expert": LangPushTExpertPolicy(),
    }
    results: dict = {name: {} for name in conditions}
    t0 = time.perf_counter()
    for task in tasks:
        env = LangPushTEnvConfig(task=task, paraphrases="heldout")
        for name, p in conditions.items():
            out = evaluate_policy(
                p, args.episodes, args.seed, max_steps=args.max_steps, env=env, progress=False, workers=args.workers
            )
            results[name][task] = out["aggregated"]["success_rate"]
        print(
            f"{task:>20}: "
            + ", ".join(f"{name} {100 * results[name][task]:.0f}%" for name in conditions)
            + f" ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    overall = {name: sum(r.values()) / len(r) for name, r in results.items()}
    k = len(tasks)
    bound = (1 / k + 0.1) * overall["true instruction"]
    print(f"\n| task | {' | '.join(conditions)} |\n|---|" + "---|" * len(conditions))
    for task in tasks:
        print(f"| {task} | " + " | ".join(f"{100 * results[n][task]:.0f}%" for n in conditions) + " |")
    print("| overall | " + " | ".join(f"{100 * overall[n]:.1f}%" for n in conditions) + " |")
    print(
        f"\n{args.episodes} episodes per task and condition, held-out paraphrases, seeds {args.seed}..; "
        f"random-instruction bound (1/K + 0.1) x true = {100 * bound:.1f}% (K = {k}): "
        + ("met" if 0 < overall["true instruction"] and overall["random instruction"] <= bound else "NOT met")
    )
    if args.output:
        Path(args.output).write_text(json.dumps({"per_task": results, "overall": overall, "bound": bound}, indent=2))


if __name__ == "__main__":
    main()
