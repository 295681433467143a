"""The quickstart's plan: its config, and the record/train/eval configs it runs (see pipeline.py)."""

from __future__ import annotations

import dataclasses
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from robotlearn.configs import config_from_dict, config_to_flags
from robotlearn.envs import PushTEnvConfig
from robotlearn.envs.pusht_feedback_expert import PUSHT_EXPERTS
from robotlearn.errors import ConfigError
from robotlearn.evaluation import EpisodesConfig, EvalConfig, PretrainedPolicyConfig
from robotlearn.policies.policy import PolicyConfig
from robotlearn.recording.session import RecordConfig, RecordDatasetConfig
from robotlearn.robots.sim_pusht import PushTRobotConfig
from robotlearn.teleoperators.scripted_pusht import ScriptedPushTConfig
from robotlearn.training import DatasetConfig, TrainConfig

MARKER = "quickstart.json"  # written first into output_dir; --overwrite only ever deletes folders holding it
REPO_ID = "local/quickstart_pusht"
PARTS_DIR = "dataset_parts"  # under output_dir: one dataset per recording process, merged into dataset/
TASK = "Push the T-shaped block onto the T-shaped target."
FPS = 10
DEFAULT_POLICY = "act"
STATE_INPUTS = ["observation.state", "observation.environment_state"]
# Sized for a CPU: the policies' default models are built for GPUs and take hours on 2 cores.
# Both see the agent position and the block pose (state-based), not the camera, and learn each action as
# its offset from the current agent position (relative actions). ACT is the default: on 200 feedback-expert
# demonstrations it succeeded in 84% and 82% of 50 test episodes (two training seeds, 12,000 steps,
# 4 of each 16-step chunk executed); this Diffusion Policy in 50% and 52%. The quickstart's 8000 steps fit
# its 20-minute budget and reached 70% (docs/training.md, rows 11-15).
SMALL_POLICIES: dict[str, dict] = {
    "act": {
        "type": "act",
        "input_features": STATE_INPUTS,
        "dim_model": 128,
        "n_heads": 4,
        "dim_feedforward": 512,
        "n_encoder_layers": 2,
        "use_vae": False,
        "dropout": 0.0,
        "chunk_size": 16,
        "n_action_steps": 4,
        "lr": 1e-3,
        "relative_actions": True,
    },
    "diffusion": {
        "type": "diffusion",
        "input_features": STATE_INPUTS,
        "down_dims": [32, 64, 128],
        "horizon": 16,
        "n_action_steps": 8,
        "lr": 1e-3,
        "relative_actions": True,
    },
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
    curve_points: int = 4
    """Checkpoints on the report's success-vs-training-time plot, evenly spaced; the last is the final
    evaluation (1: the final one only)."""
    curve_episodes: int = 10
    """Evaluation episodes of each earlier checkpoint on that plot (same first seeds)."""
    workers: int = 2
    """Processes rolling the policy's evaluation episodes out at once, one torch thread each (same results,
    episode for episode; on the CPU only: 1 is used on a GPU)."""


@dataclass
class QuickstartConfig:
    """`robotlearn quickstart`: record -> train -> evaluate -> HTML report."""

    episodes: int = 200
    """Demonstrations to record."""
    record_workers: int = 2
    """Processes recording the demonstrations at once, each a `robotlearn record` on its own simulator seed
    (--seed + i) into dataset_parts/, then merged into dataset/ without re-encoding (1: one process, directly)."""
    expert: str = "feedback"
    """Scripted expert recording the demonstrations (and evaluated beside the policy): planner or feedback
    (`--teleop.expert` of `robotlearn record`)."""
    episode_time_s: float = 30.0
    """Longest demonstration, seconds at 10 fps; each ends when the expert succeeds (12 s on average)."""
    steps: int = 8000
    """Training steps."""
    batch_size: int = 256
    """Training batch size."""
    policy: PolicyConfig = field(
        default_factory=lambda: config_from_dict(PolicyConfig, small_policy_defaults(DEFAULT_POLICY))
    )
    eval: QuickstartEvalConfig = field(default_factory=QuickstartEvalConfig)
    output_dir: str = "outputs/quickstart"
    """Where everything is written."""
    overwrite: bool = False
    """Replace an earlier quickstart's output_dir."""
    seed: int = 0
    """Seed of the demonstrations' initial states and of training."""
    device: str = "auto"
    """Training/eval device: cpu, cuda, mps or auto."""
    num_workers: int = 0
    """DataLoader workers for training (state windows are cheap to read: 0 reads them in the training process)."""
    num_threads: int = 2
    """torch CPU threads for training (0: torch's default, one per core). 2 trained this ACT 1.27x faster than 1 on
    an idle 2-core machine; on a busy machine use 1 (threads then mostly wait on each other). Evaluation workers
    use one thread each."""
    progress: bool = True
    """Show progress bars."""


def eval_workers(args: QuickstartConfig) -> int:
    """--eval.workers on the CPU; 1 on a GPU (forked workers cannot share a CUDA context)."""
    from robotlearn.utils.device import resolve_device

    return args.eval.workers if resolve_device(args.device).type == "cpu" else 1


def command_line(cmd: str, argv: list[str], multiline: bool = False) -> str:
    """A copy-pastable shell command (one flag per line with `multiline`)."""
    return (" \\\n    " if multiline else " ").join([f"robotlearn {cmd}", *(shlex.quote(a) for a in argv)])


@dataclass
class Plan:
    """The three phases as config objects, and where their outputs go."""

    out: Path
    records: list[RecordConfig]
    """One per recording process; with several, each writes a part under `parts_dir`."""
    train: TrainConfig
    eval: EvalConfig

    @property
    def dataset(self) -> Path:
        return self.out / "dataset"

    @property
    def parts_dir(self) -> Path:
        return self.out / PARTS_DIR

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

    def commands(self, multiline: bool = False) -> dict[str, str]:
        """Each phase as the shell commands a user runs to repeat it, one per line (one flag per line too with
        `multiline`): `robotlearn record` (several in the background, then `wait` and `robotlearn dataset merge`),
        `robotlearn train`, `robotlearn eval`."""
        records = [command_line("record", config_to_flags(cfg), multiline) for cfg in self.records]
        if len(records) > 1:
            roots = ",".join(cfg.dataset.root for cfg in self.records)
            merge = command_line("dataset merge", [f"--roots={roots}", f"--output={self.dataset}"], multiline)
            records = [f"{line} &" for line in records] + ["wait", merge]
        return {
            "record": "\n".join(records),
            "train": command_line("train", config_to_flags(self.train), multiline),
            "eval": command_line("eval", config_to_flags(self.eval), multiline),
        }


def make_plan(args: QuickstartConfig) -> Plan:
    """The record, train and eval configs of a quickstart. Raises ConfigError for bad sizes."""
    for name, value in (
        ("--episodes", args.episodes),
        ("--record_workers", args.record_workers),
        ("--steps", args.steps),
        ("--batch_size", args.batch_size),
        ("--eval.n_episodes", args.eval.n_episodes),
        ("--eval.curve_points", args.eval.curve_points),
        ("--eval.curve_episodes", args.eval.curve_episodes),
    ):
        if value < 1:
            raise ConfigError(f"{name}={value} must be at least 1")
    if args.expert not in PUSHT_EXPERTS:  # ScriptedPushTConfig checks too, but names --teleop.expert
        raise ConfigError(f"--expert={args.expert!r} is unknown: choose one of {', '.join(PUSHT_EXPERTS)}")
    if args.policy.type not in SMALL_POLICIES:
        raise ConfigError(f"--policy.type={args.policy.type!r}: the quickstart trains one of {sorted(SMALL_POLICIES)}")
    out = Path(args.output_dir)
    dataset = out / "dataset"
    parts = min(args.record_workers, args.episodes)
    counts = [args.episodes // parts + (i < args.episodes % parts) for i in range(parts)]
    roots = [dataset] if parts == 1 else [out / PARTS_DIR / str(i) for i in range(parts)]
    records = [
        RecordConfig(
            robot=PushTRobotConfig(seed=args.seed + i),
            teleop=ScriptedPushTConfig(expert=args.expert),
            dataset=RecordDatasetConfig(
                repo_id=REPO_ID,
                root=str(root),
                num_episodes=count,
                episode_time_s=args.episode_time_s,
                reset_time_s=0,
                fps=FPS,
                single_task=TASK,
                realtime=False,
            ),
            play_sounds=False,
        )
        for i, (root, count) in enumerate(zip(roots, counts))
    ]
    threads = args.num_threads if args.num_threads > 0 else None
    train_cfg = TrainConfig(
        dataset=DatasetConfig(repo_id=REPO_ID, root=str(dataset)),
        policy=dataclasses.replace(args.policy),
        steps=args.steps,
        batch_size=args.batch_size,
        num_workers=args.num_workers,
        log_freq=max(1, args.steps // 200),  # about 200 points on the loss curve
        save_freq=-(-args.steps // args.eval.curve_points),  # ceil: curve_points checkpoints, the last at --steps
        seed=args.seed,
        device=args.device,
        output_dir=str(out / "train"),
        num_threads=threads,
    )
    eval_cfg = EvalConfig(
        policy=PretrainedPolicyConfig(path=str(out / "train" / "checkpoints" / "last" / "pretrained_model")),
        env=PushTEnvConfig(),
        eval=EpisodesConfig(
            n_episodes=args.eval.n_episodes,
            seed=args.eval.seed,
            max_steps=args.eval.max_steps,
            n_videos=args.eval.n_videos,
            workers=eval_workers(args),
        ),
        device=args.device,
        output_dir=str(out / "eval"),
        num_threads=threads,
    )
    return Plan(out, records, train_cfg, eval_cfg)
