"""`robotlearn eval`: roll out a trained policy in simulation; success rate, rewards and videos.

    robotlearn eval --policy.path=outputs/train/pusht/checkpoints/last/pretrained_model \\
        --env.type=pusht --eval.n_episodes=50 --output_dir=outputs/eval/pusht

Episode i starts from `env.reset(seed=eval.seed + i)`, so two policies evaluated with the same
seed face the same initial states. Writes `eval_info.json` (per episode: seed, success,
sum_reward, max_reward, steps; plus the aggregate) and H.264 MP4s of the first `eval.n_videos`
episodes under `output_dir/videos/`. `robotlearn.evaluation.run_eval` is the same as a function.
"""

from __future__ import annotations

from pathlib import Path

from robotlearn.configs import parse_config
from robotlearn.evaluation import EvalConfig, run_eval


def main(argv: list[str]) -> int:
    cfg = parse_config(EvalConfig, argv, prog="robotlearn eval", description=__doc__)
    agg = run_eval(cfg)["aggregated"]
    print(f"success rate {agg['success_rate']:.2%} over {agg['n_episodes']} episodes | "
          f"mean max reward {agg['avg_max_reward']:.3f} | mean sum reward {agg['avg_sum_reward']:.2f}\n"
          f"wrote {Path(cfg.output_dir) / 'eval_info.json'}")
    return 0
