"""Evaluation in simulation: roll policies out (`rollout`, `evaluate_policy`), or a saved one (`run_eval`)."""

from robotlearn.evaluation.eval import EpisodesConfig, EvalConfig, PretrainedPolicyConfig, eval_summary_line, run_eval
from robotlearn.evaluation.rollout import evaluate_policy, rollout, write_video

__all__ = [
    "EpisodesConfig",
    "EvalConfig",
    "PretrainedPolicyConfig",
    "eval_summary_line",
    "evaluate_policy",
    "rollout",
    "run_eval",
    "write_video",
]
