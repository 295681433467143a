"""`robotlearn eval`: roll out a trained policy in simulation; success rate, rewards and videos.

    robotlearn eval --policy.path=outputs/train/pusht/checkpoints/last/pretrained_model \\
        --env.type=pusht --eval.n_episodes=50 --output_dir=outputs/eval/pusht

Episode i starts from `env.reset(seed=eval.seed + i)`, so two policies evaluated with the same
seed face the same initial states. Writes `eval_info.json` (per episode: seed, success,
sum_reward, max_reward, steps; plus the aggregate) and H.264 MP4s of the first `eval.n_videos`
episodes under `output_dir/videos/`. `--server=HOST:PORT` evaluates a policy served by
`robotlearn serve-policy` (the same episodes, the policy computed in the server). `robotlearn.evaluation.run_eval` is the same as a function.
"""

from __future__ import annotations

from robotlearn.configs import parse_config
from robotlearn.evaluation import EvalConfig, eval_summary_line, run_eval

CONFIG = EvalConfig


def main(argv: list[str]) -> int:
    cfg = parse_config(EvalConfig, argv, prog="robotlearn eval", description=__doc__)
    policy = None
    if cfg.server:  # the policy runs in `robotlearn serve-policy`; this process only steps the simulator
        from robotlearn.inference.remote import RemotePolicy
        from robotlearn.transport import resolve_token

        policy = RemotePolicy(cfg.server, token=resolve_token(cfg.token_file))
    print(eval_summary_line(run_eval(cfg, policy=policy), cfg.output_dir))
    return 0
