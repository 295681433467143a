"""The multi-task benchmarks' scripted experts, scored per task as a trained policy would be.

    python -m benchmarks.bench_multitask_experts [--episodes 50]

Language PushT (all 12 tasks, held-out paraphrases, 300 steps) with `LangPushTExpertPolicy`, and
Meta-World MT10 (500 steps) with its own scripted policies (`MetaWorldExpertPolicy`; skipped
without the `metaworld` extra). Episode seeds start at 900,000. Prints success per task and
overall: the ceiling a policy trained on their demonstrations is compared with (docs/vla.md).
"""

from __future__ import annotations

import argparse
import tempfile
import time


def score(make_env_config, tasks: list[str], policy, episodes: int, max_steps: int) -> dict[str, float]:
    from robotlearn.evaluation import EpisodesConfig, EvalConfig, run_eval

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for task in tasks:
            cfg = EvalConfig(
                env=make_env_config(task),
                eval=EpisodesConfig(n_episodes=episodes, seed=900_000, max_steps=max_steps, n_videos=0),
                output_dir=tmp,
                progress=False,
            )
            out[task] = run_eval(cfg, policy=policy)["aggregated"]["success_rate"]
    return out


def print_table(title: str, rates: dict[str, float], episodes: int, seconds: float) -> None:
    print(f"{title}: {episodes} episodes per task, {seconds:.0f} s")
    print(f"{'task':<26}{'success':>9}")
    print("-" * 35)
    for task, rate in rates.items():
        print(f"{task:<26}{rate:>9.2f}")
    print(f"{'overall':<26}{sum(rates.values()) / len(rates):>9.3f}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=50, help="episodes per task")
    args = parser.parse_args(argv if argv is not None else [])

    from robotlearn.envs import LangPushTEnvConfig
    from robotlearn.envs.lang_pusht import TASKS
    from robotlearn.evaluation.expert import LangPushTExpertPolicy

    t = time.perf_counter()
    rates = score(
        lambda task: LangPushTEnvConfig(task=task, paraphrases="heldout", image_size=32),
        TASKS,
        LangPushTExpertPolicy(),
        args.episodes,
        300,
    )
    print_table("lang_pusht scripted expert, held-out paraphrases", rates, args.episodes, time.perf_counter() - t)

    import importlib.util

    if importlib.util.find_spec("metaworld") is None:
        print("\nMeta-World MT10: skipped (pip install 'robotlearn[metaworld]')")
        return
    from robotlearn.envs import MetaWorldEnvConfig
    from robotlearn.envs.meta_world import MT10
    from robotlearn.evaluation.expert import MetaWorldExpertPolicy

    t = time.perf_counter()
    rates = score(lambda task: MetaWorldEnvConfig(task=task), MT10, MetaWorldExpertPolicy(), args.episodes, 500)
    print()
    print_table("Meta-World MT10 scripted policies", rates, args.episodes, time.perf_counter() - t)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
