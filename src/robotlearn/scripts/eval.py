"""`robotlearn eval`: roll out a trained policy in simulation; success rate, rewards and videos.

    robotlearn eval --policy.path=outputs/train/pusht/checkpoints/last/pretrained_model \\
        --env.type=pusht --eval.n_episodes=50 --output_dir=outputs/eval/pusht

Episode i starts from `env.reset(seed=eval.seed + i)`, so two policies evaluated with the same
seed face the same initial states. Writes `eval_info.json` (per episode: seed, success,
sum_reward, max_reward, steps; plus the aggregate) and H.264 MP4s of the first `eval.n_videos`
episodes under `output_dir/videos/`. `robotlearn.evaluation.run_eval` is the same as a function.
"""

from __future__ import annotations

from robotlearn.configs import parse_config
from robotlearn.evaluation import EvalConfig, eval_summary_line, run_eval

CONFIG = EvalConfig


def main(argv: list[str]) -> int:
    cfg = parse_config(EvalConfig, argv, prog="robotlearn eval", description=__doc__)
    print(eval_summary_line(run_eval(cfg), cfg.output_dir))
    return 0
