"""`robotlearn quickstart`: from nothing to a trained, evaluated PushT policy and an HTML report.

    robotlearn quickstart                               # defaults: about 15 min on 2 CPU cores
    robotlearn quickstart --episodes=20 --steps=2000 --output_dir=outputs/qs_small

Four phases, each with a progress bar and one summary line (details go to <output_dir>/logs/):
  1. record   the scripted expert pushes the T in the simulator; episodes go to <output_dir>/dataset
              (`robotlearn record`, run as fast as the simulator allows)
  2. train    a small state-based policy on them (`robotlearn train`) -> <output_dir>/train
  3. eval     the checkpoint in the simulator (`robotlearn eval`, the very same command) and, on the
              same reset seeds, the scripted expert (same `evaluate_policy`) -> <output_dir>/eval*
  4. report   <output_dir>/report.html: dataset, loss curve, success rates, videos, commands
Extra `--policy.<name>=value` flags (e.g. --policy.dim_model=128) go to `robotlearn train` as is.
See docs/quickstart.md.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from robotlearn.configs import ConfigError, parse_config

MARKER = "quickstart.json"  # written first into output_dir; --overwrite only ever deletes folders holding it
REPO_ID = "local/quickstart_pusht"
TASK = "Push the T-shaped block onto the T-shaped target."
FPS = 10
STATE_INPUTS = '["observation.state","observation.environment_state"]'
# Sized for a CPU: the policies' default models are built for GPUs and take hours on 2 cores.
# Both see the agent position and the block pose (state-based), not the camera. Diffusion is the
# default: this small U-Net with 8-step plans (2 executed before re-planning), trained 15 minutes
# on 100 demonstrations on 2 shared cores, succeeded in 13/50 evaluation episodes; the ACT below
# (5 of 10 chunk steps executed; temporal ensembling made it stall) in 8/50.
# docs/training.md has the measurements.
POLICY_FLAGS = {
    "act": ["--policy.dim_model=128", "--policy.n_heads=4", "--policy.dim_feedforward=512",
            "--policy.n_encoder_layers=2", "--policy.use_vae=false",
            "--policy.dropout=0.0", "--policy.chunk_size=10", "--policy.n_action_steps=5", "--policy.lr=1e-3"],
    "diffusion": ["--policy.down_dims=[32,64,128]", "--policy.horizon=8", "--policy.n_action_steps=2",
                  "--policy.lr=1e-3"],
}


@dataclass
class PolicyChoice:
    type: str = field(default="diffusion", metadata={"help": "Policy to train: diffusion or act. Other --policy.<name> "
                                                      "flags are passed to `robotlearn train`."})


@dataclass
class EvalChoice:
    n_episodes: int = field(default=50, metadata={"help": "Evaluation episodes (policy and expert, same seeds)."})
    seed: int = field(default=100_000, metadata={"help": "Episode i starts from reset seed seed + i."})
    max_steps: int = field(default=300, metadata={"help": "Steps before an evaluation episode is cut off."})
    n_videos: int = field(default=4, metadata={"help": "Videos of the first N policy episodes in the report."})
    expert: bool = field(default=True, metadata={"help": "Also evaluate the scripted expert on the same seeds."})


@dataclass
class QuickstartArgs:
    episodes: int = field(default=100, metadata={"help": "Demonstrations to record."})
    episode_time_s: float = field(default=30.0, metadata={"help": "Longest demonstration (s, at 10 fps); each ends "
                                                                  "when the expert succeeds (12 s on average)."})
    steps: int = field(default=5000, metadata={"help": "Training steps."})
    batch_size: int = field(default=256, metadata={"help": "Training batch size."})
    policy: PolicyChoice = field(default_factory=PolicyChoice)
    eval: EvalChoice = field(default_factory=EvalChoice)
    output_dir: str = field(default="outputs/quickstart", metadata={"help": "Where everything is written."})
    overwrite: bool = field(default=False, metadata={"help": "Replace an earlier quickstart's output_dir."})
    seed: int = field(default=0, metadata={"help": "Seed of the demonstrations' initial states and of training."})
    device: str = field(default="auto", metadata={"help": "Training/eval device: cpu, cuda, mps or auto."})
    num_workers: int = field(default=1, metadata={"help": "DataLoader workers for training."})
    num_threads: int = field(default=1, metadata={"help": "torch CPU threads for training and eval (0: torch's "
                                                         "default). These small models run fastest on 1 thread on a "
                                                         "2-core or busy CPU: more threads mostly wait on each other."})
    progress: bool = field(default=True, metadata={"help": "Show progress bars."})


def split_policy_flags(argv: list[str]) -> tuple[list[str], list[str]]:
    """(quickstart flags, pass-through `--policy.<name>` flags other than --policy.type)."""
    own, passthrough = [], []
    argv = list(argv)
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg.startswith("--policy.") and not arg.startswith("--policy.type"):
            if "=" not in arg and i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                arg = f"{arg}={argv[i + 1]}"
                i += 1
            passthrough.append(arg)
        else:
            own.append(arg)
        i += 1
    return own, passthrough


def command_line(cmd: str, argv: list[str], multiline: bool = False) -> str:
    """A copy-pastable shell command (one flag per line with `multiline`)."""
    return (" \\\n    " if multiline else " ").join([f"robotlearn {cmd}", *(shlex.quote(a) for a in argv)])


@dataclass
class Plan:
    """The three commands the quickstart runs, as argv lists, and where their outputs go."""

    out: Path
    record: list[str]
    train: list[str]
    eval: list[str]
    train_threads: int = 0  # torch threads to set around an in-process `train` that lacks --num_threads

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


def make_plan(args: QuickstartArgs, policy_flags: list[str]) -> Plan:
    if args.policy.type not in POLICY_FLAGS:
        raise ConfigError(f"--policy.type={args.policy.type!r}: choose one of {sorted(POLICY_FLAGS)}")
    for name, value in (("--episodes", args.episodes), ("--steps", args.steps), ("--batch_size", args.batch_size),
                        ("--eval.n_episodes", args.eval.n_episodes)):
        if value < 1:
            raise ConfigError(f"{name}={value} must be at least 1")
    out = Path(args.output_dir)
    dataset = out / "dataset"
    record = ["--robot.type=sim_pusht", f"--robot.seed={args.seed}", "--teleop.type=scripted_pusht",
              f"--dataset.repo_id={REPO_ID}", f"--dataset.root={dataset}", f"--dataset.num_episodes={args.episodes}",
              f"--dataset.episode_time_s={args.episode_time_s:g}", "--dataset.reset_time_s=0", f"--dataset.fps={FPS}",
              f"--dataset.single_task={TASK}", "--dataset.realtime=false", "--play_sounds=false"]
    log_freq = max(1, args.steps // 200)  # about 200 points on the loss curve
    train = [f"--policy.type={args.policy.type}", f"--dataset.repo_id={REPO_ID}", f"--dataset.root={dataset}",
             f"--policy.input_features={STATE_INPUTS}", *POLICY_FLAGS[args.policy.type], *policy_flags,
             f"--steps={args.steps}", f"--batch_size={args.batch_size}", f"--num_workers={args.num_workers}",
             f"--log_freq={log_freq}", f"--save_freq={args.steps}", f"--seed={args.seed}", f"--device={args.device}",
             f"--output_dir={out / 'train'}"]
    train_threads = 0
    if args.num_threads > 0:
        if _has_flag("robotlearn.scripts.train", "TrainArgs", "num_threads"):
            train.append(f"--num_threads={args.num_threads}")
        else:  # older `robotlearn train`: same effect through the environment variable torch reads
            train_threads = args.num_threads
    ckpt = out / "train" / "checkpoints" / "last" / "pretrained_model"
    evaluate = [f"--policy.path={ckpt}", "--env.type=pusht", f"--eval.n_episodes={args.eval.n_episodes}",
                f"--eval.seed={args.eval.seed}", f"--eval.max_steps={args.eval.max_steps}",
                f"--eval.n_videos={args.eval.n_videos}", f"--device={args.device}", f"--output_dir={out / 'eval'}"]
    if args.num_threads > 0 and _has_flag("robotlearn.scripts.eval", "EvalArgs", "num_threads"):
        evaluate.append(f"--num_threads={args.num_threads}")
    return Plan(out, record, train, evaluate, train_threads)


def _has_flag(module: str, config_class: str, name: str) -> bool:
    """Whether a command's config has field `name` (flags that landed after the quickstart was written)."""
    import dataclasses
    import importlib

    return name in {f.name for f in dataclasses.fields(getattr(importlib.import_module(module), config_class))}


def train_command(plan: Plan, multiline: bool = False) -> str:
    prefix = f"OMP_NUM_THREADS={plan.train_threads} " if plan.train_threads else ""
    return prefix + command_line("train", plan.train, multiline)


def prepare_output_dir(out: Path, overwrite: bool) -> None:
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
    """Send prints (commands' per-episode lines) to a log file; progress bars stay on stderr."""
    with open(path, "a", encoding="utf-8") as f, contextlib.redirect_stdout(f):
        yield


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{seconds:.1f} s"


# -- phase 1: record -------------------------------------------------------------------------------
def run_record(plan: Plan) -> float:
    from robotlearn.scripts.record import RecordArgs, record

    args = parse_config(RecordArgs, plan.record, prog="robotlearn record")
    t0 = time.perf_counter()
    with _stdout_to(plan.out / "logs" / "record.log"):
        record(args)
    return time.perf_counter() - t0


# -- phase 2: train --------------------------------------------------------------------------------
@contextlib.contextmanager
def capture_train_metrics(rows: list[dict]):
    """Collect the training loop's logged scalars into `rows` ({"step": .., "loss": .., ...}).

    `robotlearn train` logs to TensorBoard/wandb only; its `Loggers.log(step, scalars, prefix)`
    is the one place every logged value passes, so it is wrapped for the duration of the run."""
    from robotlearn.scripts import train as train_module

    original = train_module.Loggers

    class CapturingLoggers(original):
        def log(self, step, scalars, prefix):
            super().log(step, scalars, prefix)
            if prefix == "train":
                rows.append({"step": int(step), **{k: float(v) for k, v in scalars.items()}})

    train_module.Loggers = CapturingLoggers
    try:
        yield rows
    finally:
        train_module.Loggers = original


def run_train(plan: Plan, progress: bool) -> tuple[list[dict], int, float]:
    """Trains in this process; returns (metrics rows, number of parameters, seconds)."""
    import torch

    from robotlearn.scripts.train import parse_train_args, train

    args = parse_train_args(plan.train + ([] if progress else ["--progress=false"]))
    rows: list[dict] = []
    threads = torch.get_num_threads()
    if plan.train_threads:
        torch.set_num_threads(plan.train_threads)
    t0 = time.perf_counter()
    try:
        with _stdout_to(plan.out / "logs" / "train.log"), capture_train_metrics(rows):
            result = train(args)
    finally:
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - t0
    with open(plan.out / "train_metrics.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)
    n_params = sum(p.numel() for p in result.policy.parameters())
    return rows, n_params, seconds


# -- phase 3: evaluate -----------------------------------------------------------------------------
def run_eval_cli(plan: Plan, progress: bool) -> dict:
    """Runs `robotlearn eval` itself (a subprocess): the report's numbers are the command's numbers."""
    argv = plan.eval + ([] if progress else ["--progress=false"])
    with open(plan.out / "logs" / "eval.log", "w", encoding="utf-8") as log:
        proc = subprocess.run([sys.executable, "-m", "robotlearn.scripts.cli", "eval", *argv], stdout=log,
                              stderr=None if progress else subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"`{command_line('eval', plan.eval)}` failed (exit {proc.returncode}); "
                           f"see {plan.out / 'logs' / 'eval.log'}")
    return json.loads((plan.eval_dir / "eval_info.json").read_text())


class ExpertPolicy:
    """The scripted PushT expert behind the policy interface `evaluate_policy` drives.

    The expert plans from the simulator's state, agent velocity and goal coverage, but a policy
    only sees observations. It asks for `observation.environment_state` (the exact sim state) and
    keeps a private twin of the simulator, started from that state and stepped with the same
    actions: PushT is deterministic, so the twin tracks the evaluated env exactly and supplies
    the velocity and coverage. If the twin ever disagrees with the observed state it is re-synced
    (counted in `resyncs`)."""

    def __init__(self):
        import torch

        from robotlearn.envs.pusht import ENV_STATE_KEY, PushTEnv
        from robotlearn.teleoperators.scripted_pusht import PushTExpert

        self.key = ENV_STATE_KEY
        self.expert = PushTExpert()
        self.twin = PushTEnv(max_steps=None)
        self.config = SimpleNamespace(features={ENV_STATE_KEY: {"type": "STATE", "shape": [5]}})
        self.device = torch.device("cpu")
        self.resyncs = 0
        self._started = False

    def eval(self):
        return self

    def reset(self) -> None:
        self.expert.reset()
        self._started = False

    def select_action(self, observation: dict):
        import torch

        state = observation[self.key][0].detach().cpu().numpy().astype(np.float32)
        if not self._started or not np.array_equal(self.twin.get_state().astype(np.float32), state):
            self.resyncs += int(self._started)
            self.twin.reset_to_state(state)
            self._started = True
        twin = self.twin
        target = np.asarray(self.expert.act(twin.get_state(), twin.agent_velocity(), twin.coverage()), np.float32)
        twin.step(target)
        return torch.from_numpy(target).reshape(1, 2)

    def close(self) -> None:
        self.twin.close()


def run_expert_eval(plan: Plan, args: QuickstartArgs) -> dict:
    """The scripted expert through `evaluate_policy`, on the seeds the policy was evaluated on."""
    from robotlearn.scripts.eval import evaluate_policy

    expert = ExpertPolicy()
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


# -- phase 4: report -------------------------------------------------------------------------------
def dataset_summary(plan: Plan, frames_per_camera: int = 6):
    """DatasetSummary of the recorded dataset, with a few frames of each camera as inline PNGs."""
    from robotlearn.datasets import LeRobotDataset
    from robotlearn.report import DatasetSummary, png_data_uri

    ds = LeRobotDataset(REPO_ID, root=plan.dataset)
    meta = ds.meta
    features = {}
    for key, ft in meta.features.items():
        if key in ("timestamp", "frame_index", "episode_index", "index", "task_index"):
            continue
        shape = "x".join(str(s) for s in ft["shape"])
        names = ft.get("names")
        names = f" [{', '.join(names)}]" if isinstance(names, list) and ft["dtype"] not in ("video", "image") else ""
        features[key] = f"{ft['dtype']} {shape}{names}"
    # first, middle and last frame of the first episodes
    picks = []
    for episode in meta.episodes[: max(1, frames_per_camera // 3)]:
        start, end = int(episode["dataset_from_index"]), int(episode["dataset_to_index"])
        picks += [(int(episode["episode_index"]), i - start, i) for i in (start, (start + end) // 2, end - 1)]
    frames: dict[str, list[tuple[str, str]]] = {key: [] for key in meta.camera_keys}
    for episode_index, frame_index, i in picks[:frames_per_camera]:
        item = ds[i]
        for key in meta.camera_keys:
            image = (item[key].permute(1, 2, 0).clamp(0, 1).numpy() * 255).round().astype(np.uint8)
            caption = f"episode {episode_index}, t = {frame_index / meta.fps:.1f} s"
            frames[key].append((caption, png_data_uri(image, scale=2)))
    return DatasetSummary(root=str(plan.dataset), repo_id=REPO_ID, episodes=meta.total_episodes,
                          frames_total=meta.total_frames, fps=meta.fps, tasks=list(meta.tasks), features=features,
                          frames=frames)


def build_report(plan: Plan, args: QuickstartArgs, metrics: list[dict], n_params: int | None, policy_eval: dict,
                 expert_eval: dict | None, timings: dict[str, float], train_flags: list[str]) -> Path:
    import os

    from robotlearn.report import EvaluationSummary, ReportData, TrainingSummary, write_report

    report_path = plan.out / "report.html"
    dataset = dataset_summary(plan)
    dataset.wall_time_s = timings.get("record")
    details = {"Inputs": "agent position + block pose (observation.state, observation.environment_state)",
               "Policy flags": " ".join(POLICY_FLAGS[args.policy.type] + list(train_flags)), "Seed": str(args.seed)}
    training = TrainingSummary(policy_type=args.policy.type, steps=args.steps, batch_size=args.batch_size,
                               checkpoint=str(plan.checkpoint), metrics=metrics, n_params=n_params,
                               wall_time_s=timings.get("train"), details=details)
    videos = [(f"policy, episode {i} (seed {args.eval.seed + i}): "
               f"{'success' if policy_eval['per_episode'][i]['success'] else 'fail'}",
               os.path.relpath(path, report_path.parent))
              for i, path in enumerate(policy_eval.get("video_paths", []))]
    if expert_eval is not None:
        videos += [(f"expert, episode {i} (seed {args.eval.seed + i}): "
                    f"{'success' if expert_eval['per_episode'][i]['success'] else 'fail'}",
                    os.path.relpath(path, report_path.parent))
                   for i, path in enumerate(expert_eval.get("video_paths", []))]
    evaluation = EvaluationSummary(policy=policy_eval, expert=expert_eval, seed=args.eval.seed,
                                   max_steps=args.eval.max_steps, videos=videos, wall_time_s=timings.get("eval"))
    commands = {"1. Record demonstrations": command_line("record", plan.record, multiline=True),
                "2. Train": train_command(plan, multiline=True),
                "3. Evaluate": command_line("eval", plan.eval, multiline=True),
                "All of it": command_line("quickstart", _quickstart_argv(args, train_flags), multiline=True)}
    data = ReportData(title="robotlearn quickstart: PushT", dataset=dataset, training=training,
                      evaluation=evaluation, commands=commands, total_time_s=sum(timings.values()),
                      next_steps=next_steps(args, policy_eval, expert_eval))
    return write_report(report_path, data)


def next_steps(args: QuickstartArgs, policy_eval: dict, expert_eval: dict | None) -> list[str]:
    """Advice shown at the end of the report, depending on how the policy did."""
    from html import escape

    rate = policy_eval["aggregated"]["success_rate"]
    expert = expert_eval["aggregated"]["success_rate"] if expert_eval else None
    items = []
    if expert is not None and rate < 0.5 * expert:
        items.append(
            f"The policy is well below the expert ({rate:.0%} vs {expert:.0%}). Imitation needs more of both: "
            f"more demonstrations (<code>--episodes={2 * args.episodes}</code>) and more training "
            f"(<code>--steps={4 * args.steps}</code>); the loss curve above shows whether training had levelled off."
        )
    items.append("Watch the videos: a policy that stalls next to the block has learned to stay where it is "
                 "(most recorded actions are close to the current position); one that pushes in the wrong "
                 "direction needs more data. Re-planning more often is free to try: <code>robotlearn eval ... "
                 "--policy.overrides='{\"n_action_steps\": 1}'</code>.")
    items.append("Learn from the camera instead of the simulator state: the train command above with "
                 "<code>--policy.input_features='[\"observation.images.top\",\"observation.state\"]'</code> "
                 "and without the size flags (the policies' full sizes); this wants a GPU "
                 "(<code>--device=cuda</code>) and many more steps.")
    checkpoint = Path(args.output_dir) / "train" / "checkpoints" / "last" / "pretrained_model"
    again = command_line("eval", [f"--policy.path={checkpoint}", "--eval.n_episodes=200"])
    items.append(f"A tighter estimate of the success rate: <code>{escape(again)}</code>.")
    return items


def _quickstart_argv(args: QuickstartArgs, policy_flags: list[str]) -> list[str]:
    return [f"--episodes={args.episodes}", f"--episode_time_s={args.episode_time_s:g}", f"--steps={args.steps}",
            f"--batch_size={args.batch_size}", f"--policy.type={args.policy.type}", *policy_flags,
            f"--eval.n_episodes={args.eval.n_episodes}", f"--eval.seed={args.eval.seed}",
            f"--eval.max_steps={args.eval.max_steps}", f"--eval.n_videos={args.eval.n_videos}",
            f"--eval.expert={str(args.eval.expert).lower()}", f"--seed={args.seed}", f"--device={args.device}",
            f"--num_workers={args.num_workers}", f"--num_threads={args.num_threads}",
            f"--output_dir={args.output_dir}"]


# -- the whole thing -------------------------------------------------------------------------------
def quickstart(args: QuickstartArgs, policy_flags: list[str] = ()) -> dict:
    """Runs the four phases; returns the summary also written to <output_dir>/quickstart.json."""
    policy_flags = list(policy_flags)
    plan = make_plan(args, policy_flags)
    prepare_output_dir(plan.out, args.overwrite)
    summary: dict = {"argv": _quickstart_argv(args, policy_flags), "status": "running"}
    marker = plan.out / MARKER
    marker.write_text(json.dumps(summary, indent=2))
    timings: dict[str, float] = {}

    print(f"[1/4] record: {args.episodes} scripted-expert demonstrations of {args.episode_time_s:g} s "
          f"-> {plan.dataset}", flush=True)
    timings["record"] = run_record(plan)
    from robotlearn.datasets import LeRobotDatasetMetadata

    meta = LeRobotDatasetMetadata(REPO_ID, root=plan.dataset)
    print(f"      recorded {meta.total_episodes} episodes, {meta.total_frames} frames at {meta.fps} fps "
          f"in {_duration(timings['record'])}", flush=True)

    print(f"[2/4] train: {args.policy.type}, {args.steps} steps, batch {args.batch_size} -> {plan.train_dir}",
          flush=True)
    metrics, n_params, timings["train"] = run_train(plan, args.progress)
    losses = [m["loss"] for m in metrics if "loss" in m]
    loss_text = f"loss {losses[0]:.4g} -> {losses[-1]:.4g}, " if losses else ""
    print(f"      trained {n_params / 1e6:.2f}M parameters: {loss_text}{_duration(timings['train'])}", flush=True)

    print(f"[3/4] eval: {args.eval.n_episodes} episodes from reset seeds {args.eval.seed}.. "
          f"(policy{', then the expert' if args.eval.expert else ''})", flush=True)
    t0 = time.perf_counter()
    policy_eval = run_eval_cli(plan, args.progress)
    expert_eval = run_expert_eval(plan, args) if args.eval.expert else None
    timings["eval"] = time.perf_counter() - t0
    rate = policy_eval["aggregated"]["success_rate"]
    expert_text = f", expert {expert_eval['aggregated']['success_rate']:.0%}" if expert_eval else ""
    print(f"      success rate: policy {rate:.0%}{expert_text} ({_duration(timings['eval'])})", flush=True)

    t0 = time.perf_counter()
    report = build_report(plan, args, metrics, n_params, policy_eval, expert_eval, timings, policy_flags)
    timings["report"] = time.perf_counter() - t0
    summary.update(status="done", report=str(report), checkpoint=str(plan.checkpoint),
                   policy_success_rate=rate,
                   expert_success_rate=expert_eval["aggregated"]["success_rate"] if expert_eval else None,
                   timings_s=timings, total_s=sum(timings.values()),
                   commands={"record": command_line("record", plan.record), "train": train_command(plan),
                             "eval": command_line("eval", plan.eval)})
    marker.write_text(json.dumps(summary, indent=2))
    print(f"[4/4] report: {report}  (total {_duration(summary['total_s'])})", flush=True)
    return summary


def parse_args(argv: list[str] | None, prog: str = "robotlearn quickstart") -> tuple[QuickstartArgs, list[str]]:
    """(QuickstartArgs, pass-through --policy.<name> flags for `robotlearn train`)."""
    own, policy_flags = split_policy_flags(list(sys.argv[1:] if argv is None else argv))
    return parse_config(QuickstartArgs, own, prog=prog, description=__doc__), policy_flags


def main(argv: list[str] | None = None) -> int:
    args, policy_flags = parse_args(argv)
    quickstart(args, policy_flags)
    return 0
