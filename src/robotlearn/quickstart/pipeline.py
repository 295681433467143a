"""The quickstart: from nothing to a trained, evaluated PushT policy and an HTML report.

    from robotlearn.quickstart import QuickstartConfig, quickstart
    summary = quickstart(QuickstartConfig(episodes=20, steps=2000, output_dir="outputs/qs_small"))

Four phases, each with a progress bar and one summary line (details go to <output_dir>/logs/):
  1. record   the scripted expert pushes the T in the simulator; episodes go to <output_dir>/dataset
              (`robotlearn.recording.session.record`, as fast as the simulator allows)
  2. train    a small state-based policy on them (`robotlearn.training.train`) -> <output_dir>/train
  3. eval     the checkpoint in the simulator (`robotlearn.evaluation.run_eval`, what `robotlearn eval`
              runs) and, on the same reset seeds, the scripted expert -> <output_dir>/eval*
  4. report   <output_dir>/report.html: dataset, loss curve, success rates, videos, commands
Each phase is a config object; the report shows the equivalent `robotlearn` command of each.
See docs/quickstart.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shlex
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from robotlearn.configs import config_from_dict, config_to_flags
from robotlearn.envs import PushTEnvConfig
from robotlearn.errors import ConfigError
from robotlearn.evaluation import EpisodesConfig, EvalConfig, PretrainedPolicyConfig, eval_summary_line, run_eval
from robotlearn.policies.policy import PolicyConfig
from robotlearn.recording.session import RecordConfig, RecordDatasetConfig, record
from robotlearn.robots.sim_pusht import PushTRobotConfig
from robotlearn.teleoperators.scripted_pusht import ScriptedPushTConfig
from robotlearn.training import DatasetConfig, TrainConfig, train

MARKER = "quickstart.json"  # written first into output_dir; --overwrite only ever deletes folders holding it
REPO_ID = "local/quickstart_pusht"
TASK = "Push the T-shaped block onto the T-shaped target."
FPS = 10
STATE_INPUTS = ["observation.state", "observation.environment_state"]
# Sized for a CPU: the policies' default models are built for GPUs and take hours on 2 cores.
# Both see the agent position and the block pose (state-based), not the camera. Diffusion is the
# default: this small U-Net with 8-step plans (2 executed before re-planning), trained 15 minutes
# on 100 demonstrations on 2 shared cores, succeeded in 13/50 evaluation episodes; the ACT below
# (5 of 10 chunk steps executed; temporal ensembling made it stall) in 8/50.
# docs/training.md has the measurements.
SMALL_POLICIES: dict[str, dict] = {
    "act": {"type": "act", "input_features": STATE_INPUTS, "dim_model": 128, "n_heads": 4, "dim_feedforward": 512,
            "n_encoder_layers": 2, "use_vae": False, "dropout": 0.0, "chunk_size": 10, "n_action_steps": 5,
            "lr": 1e-3},
    "diffusion": {"type": "diffusion", "input_features": STATE_INPUTS, "down_dims": [32, 64, 128], "horizon": 8,
                  "n_action_steps": 2, "lr": 1e-3},
}


def small_policy_defaults(policy_type: str) -> dict:
    """The quickstart's CPU-sized settings of `policy_type` (a config dict; the user's flags win)."""
    if policy_type not in SMALL_POLICIES:
        from robotlearn.policies import POLICIES

        if policy_type not in POLICIES:
            raise POLICIES.unknown(policy_type, "--policy.type")
        raise ConfigError(f"--policy.type={policy_type!r}: the quickstart trains one of {sorted(SMALL_POLICIES)}")
    return json.loads(json.dumps(SMALL_POLICIES[policy_type]))


@dataclass
class QuickstartEvalConfig:
    """Evaluation of the trained policy (and of the expert, on the same seeds)."""

    n_episodes: int = 50
    """Evaluation episodes (policy and expert, same seeds)."""
    seed: int = 100_000
    """Episode i starts from reset seed seed + i."""
    max_steps: int = 300
    """Steps before an evaluation episode is cut off."""
    n_videos: int = 4
    """Videos of the first N policy episodes in the report."""
    expert: bool = True
    """Also evaluate the scripted expert on the same seeds."""


@dataclass
class QuickstartConfig:
    """`robotlearn quickstart`: record -> train -> evaluate -> HTML report."""

    episodes: int = 100
    """Demonstrations to record."""
    episode_time_s: float = 30.0
    """Longest demonstration, seconds at 10 fps; each ends when the expert succeeds (12 s on average)."""
    steps: int = 5000
    """Training steps."""
    batch_size: int = 256
    """Training batch size."""
    policy: PolicyConfig = field(default_factory=lambda: config_from_dict(PolicyConfig,
                                                                          small_policy_defaults("diffusion")))
    eval: QuickstartEvalConfig = field(default_factory=QuickstartEvalConfig)
    output_dir: str = "outputs/quickstart"
    """Where everything is written."""
    overwrite: bool = False
    """Replace an earlier quickstart's output_dir."""
    seed: int = 0
    """Seed of the demonstrations' initial states and of training."""
    device: str = "auto"
    """Training/eval device: cpu, cuda, mps or auto."""
    num_workers: int = 1
    """DataLoader workers for training."""
    num_threads: int = 1
    """torch CPU threads for training and eval (0: torch's default). These small models run fastest on 1 thread on
    a 2-core or busy CPU: more threads mostly wait on each other."""
    progress: bool = True
    """Show progress bars."""


def command_line(cmd: str, argv: list[str], multiline: bool = False) -> str:
    """A copy-pastable shell command (one flag per line with `multiline`)."""
    return (" \\\n    " if multiline else " ").join([f"robotlearn {cmd}", *(shlex.quote(a) for a in argv)])


@dataclass
class Plan:
    """The three phases as config objects, and where their outputs go."""

    out: Path
    record: RecordConfig
    train: TrainConfig
    eval: EvalConfig

    @property
    def dataset(self) -> Path:
        return self.out / "dataset"

    @property
    def train_dir(self) -> Path:
        return self.out / "train"

    @property
    def checkpoint(self) -> Path:
        return self.train_dir / "checkpoints" / "last" / "pretrained_model"

    @property
    def eval_dir(self) -> Path:
        return self.out / "eval"

    @property
    def expert_dir(self) -> Path:
        return self.out / "eval_expert"

    def commands(self) -> dict[str, list[str]]:
        """Each phase as `robotlearn <phase>` flags (what a user runs to repeat it)."""
        return {"record": config_to_flags(self.record), "train": config_to_flags(self.train),
                "eval": config_to_flags(self.eval)}


def make_plan(args: QuickstartConfig) -> Plan:
    """The record, train and eval configs of a quickstart. Raises ConfigError for bad sizes."""
    for name, value in (("--episodes", args.episodes), ("--steps", args.steps), ("--batch_size", args.batch_size),
                        ("--eval.n_episodes", args.eval.n_episodes)):
        if value < 1:
            raise ConfigError(f"{name}={value} must be at least 1")
    if args.policy.type not in SMALL_POLICIES:
        raise ConfigError(f"--policy.type={args.policy.type!r}: the quickstart trains one of {sorted(SMALL_POLICIES)}")
    out = Path(args.output_dir)
    dataset = out / "dataset"
    record_cfg = RecordConfig(
        robot=PushTRobotConfig(seed=args.seed), teleop=ScriptedPushTConfig(),
        dataset=RecordDatasetConfig(repo_id=REPO_ID, root=str(dataset), num_episodes=args.episodes,
                                    episode_time_s=args.episode_time_s, reset_time_s=0, fps=FPS, single_task=TASK,
                                    realtime=False),
        play_sounds=False)
    threads = args.num_threads if args.num_threads > 0 else None
    train_cfg = TrainConfig(
        dataset=DatasetConfig(repo_id=REPO_ID, root=str(dataset)), policy=dataclasses.replace(args.policy),
        steps=args.steps, batch_size=args.batch_size, num_workers=args.num_workers,
        log_freq=max(1, args.steps // 200),  # about 200 points on the loss curve
        save_freq=args.steps, seed=args.seed, device=args.device, output_dir=str(out / "train"), num_threads=threads)
    eval_cfg = EvalConfig(
        policy=PretrainedPolicyConfig(path=str(out / "train" / "checkpoints" / "last" / "pretrained_model")),
        env=PushTEnvConfig(),
        eval=EpisodesConfig(n_episodes=args.eval.n_episodes, seed=args.eval.seed, max_steps=args.eval.max_steps,
                            n_videos=args.eval.n_videos),
        device=args.device, output_dir=str(out / "eval"), num_threads=threads)
    return Plan(out, record_cfg, train_cfg, eval_cfg)


def prepare_output_dir(out: Path, overwrite: bool) -> None:
    """Creates `out`/logs; an existing non-empty `out` is replaced only with `overwrite` and only
    when an earlier quickstart made it (holds quickstart.json). Raises ConfigError otherwise."""
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise ConfigError(f"--output_dir={out} is not empty: pass --overwrite to replace an earlier quickstart's "
                              "results, or choose another --output_dir")
        if not (out / MARKER).is_file():
            raise ConfigError(f"--output_dir={out} is not empty and was not made by the quickstart (no {MARKER}): "
                              "refusing to delete it; choose another --output_dir")
        shutil.rmtree(out)
    (out / "logs").mkdir(parents=True, exist_ok=True)


@contextlib.contextmanager
def _stdout_to(path: Path):
    """Send prints (the phases' per-episode lines) to a log file; progress bars stay on stderr."""
    with open(path, "a", encoding="utf-8") as f, contextlib.redirect_stdout(f):
        yield


def duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{seconds:.1f} s"


def run_record(plan: Plan) -> float:
    t0 = time.perf_counter()
    with _stdout_to(plan.out / "logs" / "record.log"):
        record(plan.record)
    return time.perf_counter() - t0


def run_train(plan: Plan, progress: bool) -> tuple[list[dict], int, float]:
    """Trains; returns (metrics rows, number of parameters, seconds) and writes train_metrics.jsonl."""
    import torch

    threads = torch.get_num_threads()
    t0 = time.perf_counter()
    try:
        with _stdout_to(plan.out / "logs" / "train.log"):
            result = train(dataclasses.replace(plan.train, policy=dataclasses.replace(plan.train.policy),
                                               progress=progress))
    finally:
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - t0
    with open(plan.out / "train_metrics.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row) + "\n" for row in result.metrics)
    n_params = sum(p.numel() for p in result.policy.parameters())
    return result.metrics, n_params, seconds


def run_policy_eval(plan: Plan, progress: bool) -> dict:
    """`robotlearn eval`'s function on the checkpoint; its printed lines go to logs/eval.log."""
    with _stdout_to(plan.out / "logs" / "eval.log"):
        results = run_eval(dataclasses.replace(plan.eval, progress=progress))
        print(eval_summary_line(results, plan.eval.output_dir))
    return results


def run_expert_eval(plan: Plan, args: QuickstartConfig) -> dict:
    """The scripted expert through `evaluate_policy`, on the seeds the policy was evaluated on."""
    from robotlearn.evaluation import evaluate_policy
    from robotlearn.evaluation.expert import PushTExpertPolicy

    expert = PushTExpertPolicy()
    try:
        results = evaluate_policy(expert, args.eval.n_episodes, args.eval.seed, max_steps=args.eval.max_steps,
                                  n_videos=1, video_dir=plan.expert_dir / "videos", device="cpu",
                                  progress=args.progress)
    finally:
        expert.close()
    results["policy_path"] = "scripted_pusht expert"
    results["twin_resyncs"] = expert.resyncs
    plan.expert_dir.mkdir(parents=True, exist_ok=True)
    (plan.expert_dir / "eval_info.json").write_text(json.dumps(results, indent=2))
    return results


def quickstart(args: QuickstartConfig) -> dict:
    """Runs the four phases; returns the summary also written to <output_dir>/quickstart.json."""
    from robotlearn.datasets import LeRobotDatasetMetadata
    from robotlearn.quickstart.report import build_report

    plan = make_plan(args)
    commands = plan.commands()  # before training fills in the policy's features
    prepare_output_dir(plan.out, args.overwrite)
    summary: dict = {"argv": config_to_flags(args), "status": "running"}
    marker = plan.out / MARKER
    marker.write_text(json.dumps(summary, indent=2))
    timings: dict[str, float] = {}

    print(f"[1/4] record: {args.episodes} scripted-expert demonstrations of {args.episode_time_s:g} s "
          f"-> {plan.dataset}", flush=True)
    timings["record"] = run_record(plan)
    meta = LeRobotDatasetMetadata(REPO_ID, root=plan.dataset)
    print(f"      recorded {meta.total_episodes} episodes, {meta.total_frames} frames at {meta.fps} fps "
          f"in {duration(timings['record'])}", flush=True)

    print(f"[2/4] train: {args.policy.type}, {args.steps} steps, batch {args.batch_size} -> {plan.train_dir}",
          flush=True)
    metrics, n_params, timings["train"] = run_train(plan, args.progress)
    losses = [m["loss"] for m in metrics if "loss" in m]
    loss_text = f"loss {losses[0]:.4g} -> {losses[-1]:.4g}, " if losses else ""
    print(f"      trained {n_params / 1e6:.2f}M parameters: {loss_text}{duration(timings['train'])}", flush=True)

    print(f"[3/4] eval: {args.eval.n_episodes} episodes from reset seeds {args.eval.seed}.. "
          f"(policy{', then the expert' if args.eval.expert else ''})", flush=True)
    t0 = time.perf_counter()
    policy_eval = run_policy_eval(plan, args.progress)
    expert_eval = run_expert_eval(plan, args) if args.eval.expert else None
    timings["eval"] = time.perf_counter() - t0
    rate = policy_eval["aggregated"]["success_rate"]
    expert_text = f", expert {expert_eval['aggregated']['success_rate']:.0%}" if expert_eval else ""
    print(f"      success rate: policy {rate:.0%}{expert_text} ({duration(timings['eval'])})", flush=True)

    t0 = time.perf_counter()
    report = build_report(plan, args, commands, metrics, n_params, policy_eval, expert_eval, timings)
    timings["report"] = time.perf_counter() - t0
    summary.update(status="done", report=str(report), checkpoint=str(plan.checkpoint),
                   policy_success_rate=rate,
                   expert_success_rate=expert_eval["aggregated"]["success_rate"] if expert_eval else None,
                   timings_s=timings, total_s=sum(timings.values()),
                   commands={name: command_line(name, flags) for name, flags in commands.items()})
    marker.write_text(json.dumps(summary, indent=2))
    print(f"[4/4] report: {report}  (total {duration(summary['total_s'])})", flush=True)
    return summary
