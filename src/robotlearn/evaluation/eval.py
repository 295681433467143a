"""Evaluate a saved policy in simulation: success rate, rewards, videos, `eval_info.json`.

    from robotlearn.evaluation import EvalConfig, run_eval
    results = run_eval(EvalConfig(policy=PretrainedPolicyConfig(path="outputs/train/checkpoints/last/pretrained_model")))

`robotlearn eval` is this function behind flags.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from robotlearn.envs import EnvConfig, PushTEnvConfig
from robotlearn.errors import ConfigError
from robotlearn.evaluation.rollout import evaluate_policy


@dataclass
class PretrainedPolicyConfig:
    """A trained policy to load."""

    path: str = ""
    """A pretrained_model directory (config.json + model.safetensors), or a checkpoint/training output directory."""
    overrides: dict = field(default_factory=dict)
    """Inference settings to change, as JSON, e.g. '{"n_action_steps": 1, "temporal_ensemble_coeff": 0.01}' (ACT)
    or '{"n_action_steps": 4}' (Diffusion). Allowed: n_action_steps, temporal_ensemble_coeff, num_inference_steps."""


@dataclass
class EpisodesConfig:
    """How many episodes, from which seeds, how long."""

    n_episodes: int = 50
    """Episodes to roll out."""
    seed: int = 100_000
    """Episode i starts from reset seed seed + i."""
    max_steps: int = 300
    """Steps before an episode is cut off."""
    n_videos: int = 4
    """Save MP4s of the first N episodes."""
    workers: int = 1
    """Processes rolling episodes out at once, one torch thread each (CPU only; the same results, episode for
    episode, N times faster on N idle cores)."""


@dataclass
class EvalConfig:
    """`robotlearn eval`: roll out a trained policy in simulation."""

    policy: PretrainedPolicyConfig = field(default_factory=PretrainedPolicyConfig)
    env: EnvConfig = field(default_factory=PushTEnvConfig)
    eval: EpisodesConfig = field(default_factory=EpisodesConfig)
    output_dir: str = "outputs/eval"
    """Where eval_info.json and videos/ go."""
    device: str = "auto"
    """cpu, cuda, cuda:N, mps or auto (cuda when available)."""
    num_threads: int | None = None
    """torch CPU threads (default: torch's choice)."""
    progress: bool = True
    """Show a progress bar."""
    server: str = ""
    """Evaluate through a policy server HOST:PORT (`robotlearn serve-policy`) instead of loading --policy.path."""
    token_file: str | None = None
    """With --server: file holding the server's token (default: $ROBOTLEARN_TOKEN)."""


def run_eval(cfg: EvalConfig, policy=None) -> dict:
    """Loads `cfg.policy`, evaluates it, writes `<output_dir>/eval_info.json` and videos; returns the
    results (see `evaluate_policy`) with `policy_path` and `policy_overrides` added.

    `policy`: an already built policy-like object to evaluate instead of loading `cfg.policy.path`
    (`robotlearn eval --server` passes a `robotlearn.inference.remote.RemotePolicy`).

    Raises ConfigError (no path), PolicyNotFoundError (nothing saved there), PolicyConfigError (bad overrides)."""
    import torch

    from robotlearn.policies import make_policy_from_pretrained
    from robotlearn.policies.overrides import apply_inference_overrides
    from robotlearn.utils.device import resolve_device

    if policy is None and not cfg.policy.path:
        raise ConfigError(
            "--policy.path is required: a checkpoint's pretrained_model directory (or --server=HOST:PORT)"
        )
    if cfg.eval.workers > 1 and (cfg.server or policy is not None):
        raise ConfigError("--eval.workers > 1 cannot share one connection to a policy server; use --eval.workers=1")
    device = resolve_device(cfg.device) if policy is None else torch.device("cpu")
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    if policy is None:
        policy = make_policy_from_pretrained(cfg.policy.path, device=str(device))
        apply_inference_overrides(policy, cfg.policy.overrides)
    output_dir = Path(cfg.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    results = evaluate_policy(
        policy,
        cfg.eval.n_episodes,
        cfg.eval.seed,
        max_steps=cfg.eval.max_steps,
        n_videos=cfg.eval.n_videos,
        video_dir=output_dir / "videos",
        device=device,
        env=cfg.env,
        progress=cfg.progress,
        workers=cfg.eval.workers,
    )
    results["policy_path"] = f"server {cfg.server}" if cfg.server else str(cfg.policy.path)
    results["policy_overrides"] = cfg.policy.overrides
    (output_dir / "eval_info.json").write_text(json.dumps(results, indent=2))
    return results


def eval_summary_line(results: dict, output_dir: str | Path) -> str:
    """What `robotlearn eval` prints: success rate and rewards, one line per task for a multi-task env,
    then where the results went."""
    agg = results["aggregated"]
    tasks = "".join(
        f"  {task}: success rate {r['success_rate']:.2%} over {r['n_episodes']} episodes\n"
        for task, r in results.get("per_task", {}).items()
    )
    return (
        f"success rate {agg['success_rate']:.2%} over {agg['n_episodes']} episodes | "
        f"mean max reward {agg['avg_max_reward']:.3f} | mean sum reward {agg['avg_sum_reward']:.2f}\n"
        f"{tasks}wrote {Path(output_dir) / 'eval_info.json'}"
    )
