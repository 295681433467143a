"""`robotlearn train`: train a policy (ACT or Diffusion) on a LeRobotDataset, with exact resume.

    robotlearn train --policy.type=diffusion --dataset.repo_id=me/pusht --dataset.root=data/pusht \\
        --steps=5000 --batch_size=64 --output_dir=outputs/train/pusht_diffusion
    robotlearn train --output_dir=outputs/train/pusht_diffusion --resume --steps=10000   # continue

Each step: a batch of windows (the policy's `delta_timestamps`) -> loss -> AdamW step (gradient
clipping, LR schedule) -> EMA update (Diffusion). The data order is a function of (seed, epoch),
so a resumed run sees the same batches, with the same RNG draws, as an uninterrupted one.
See docs/training.md.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import random
import time
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from robotlearn.configs import ConfigError, config_to_dict, parse_config
from robotlearn.policies.factory import POLICIES, make_policy_from_config
from robotlearn.policies.policy import PolicyConfig
from robotlearn.training.checkpoint import last_checkpoint, load_checkpoint, save_checkpoint
from robotlearn.training.ema import EMA
from robotlearn.training.optim import make_optimizer, make_scheduler
from robotlearn.training.sampler import ResumableSampler

log = logging.getLogger("robotlearn.train")


@dataclass
class DatasetArgs:
    repo_id: str = field(default="", metadata={"help": "Dataset id user/name (also names the default root)."})
    root: str | None = field(default=None, metadata={"help": "Local dataset folder."})
    episodes: list[int] | None = field(default=None, metadata={"help": "Train on these episode indices only."})


@dataclass
class EvalArgs:
    n_episodes: int = field(default=10, metadata={"help": "Episodes per evaluation during training."})
    seed: int = field(default=100_000, metadata={"help": "Seed of the first evaluation episode."})
    max_steps: int = field(default=300, metadata={"help": "Episode length limit (steps)."})
    env_type: str = field(default="pusht", metadata={"help": "Simulator for evaluation (pusht)."})


@dataclass
class WandbArgs:
    enable: bool = field(default=False, metadata={"help": "Log to Weights & Biases (needs `pip install wandb`)."})
    project: str = field(default="robotlearn", metadata={"help": "wandb project."})


@dataclass
class TrainArgs:
    dataset: DatasetArgs = field(default_factory=DatasetArgs)
    policy: PolicyConfig = field(default_factory=PolicyConfig)  # replaced by the chosen policy's config class
    eval: EvalArgs = field(default_factory=EvalArgs)
    wandb: WandbArgs = field(default_factory=WandbArgs)
    steps: int = field(default=5000, metadata={"help": "Total optimizer steps (a resumed run continues to this)."})
    batch_size: int = field(default=64, metadata={"help": "Samples per step."})
    num_workers: int = field(default=2, metadata={"help": "DataLoader worker processes (0: load in the main process)."})
    output_dir: str = field(default="outputs/train", metadata={"help": "Where checkpoints and logs go."})
    save_freq: int = field(default=1000, metadata={"help": "Save a checkpoint every N steps (and at the end)."})
    eval_freq: int = field(default=0, metadata={"help": "Evaluate in simulation every N steps (0: never)."})
    log_freq: int = field(default=100, metadata={"help": "Log loss/lr every N steps."})
    seed: int = field(default=1000, metadata={"help": "Seed of weights init, data order and noise."})
    resume: bool = field(default=False, metadata={"help": "Continue from output_dir/checkpoints/last."})
    device: str = field(default="auto", metadata={"help": "cpu, cuda, cuda:1, mps or auto (cuda when available)."})
    use_amp: bool = field(default=False, metadata={"help": "Mixed precision on CUDA (bf16 when supported, else fp16)."})
    deterministic: bool = field(default=False, metadata={"help": "torch.use_deterministic_algorithms (slower)."})
    lr: float | None = field(default=None, metadata={"help": "Learning rate (default: the policy's --policy.lr)."})
    num_threads: int | None = field(
        default=None,
        metadata={"help": "torch CPU threads (default: torch's choice). On a busy or 2-core machine, 1 is often "
                          "much faster than oversubscribed threads."},
    )
    progress: bool = field(default=True, metadata={"help": "Show a progress bar (false: print a line every --log_freq steps)."})
    time_limit_s: float = field(
        default=0.0,
        metadata={"help": "Stop after this many seconds of training, saving a checkpoint (0: no limit). "
                          "`--resume` continues from it toward --steps."},
    )


def train_args_class(policy_type: str) -> type:
    """TrainArgs whose `policy` field is `policy_type`'s config class (so `--policy.<name>` flags exist)."""
    if policy_type not in POLICIES:
        raise ConfigError(f"--policy.type={policy_type!r} is unknown; choose one of {sorted(POLICIES)}")
    config_class = POLICIES[policy_type][0]
    return dataclasses.make_dataclass(
        "TrainArgs", [("policy", config_class, field(default_factory=config_class))], bases=(TrainArgs,)
    )


def _flag_value(argv: list[str], flag: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
    return None


def _to_flags(d: dict, prefix: str = "") -> list[str]:
    """A saved config dict -> `--a.b=value` flags, so command-line flags can be applied on top."""
    flags = []
    for key, value in d.items():
        if isinstance(value, dict) and key != "features" and key != "normalization":
            flags += _to_flags(value, f"{prefix}{key}.")
        elif value is None:
            flags.append(f"--{prefix}{key}=none")
        elif isinstance(value, (list, dict, bool)):
            flags.append(f"--{prefix}{key}={json.dumps(value)}")
        else:
            flags.append(f"--{prefix}{key}={value}")
    return flags


def parse_train_args(argv: list[str]):
    """Parses flags; with --resume the saved train_config.json provides the defaults."""
    argv = list(argv)
    prefix: list[str] = []
    resume = _flag_value(argv, "--resume")
    if "--resume" in argv or (resume is not None and resume.lower() in ("1", "true", "yes", "on")):
        output_dir = _flag_value(argv, "--output_dir") or TrainArgs.output_dir
        saved_path = last_checkpoint(Path(output_dir)) / "train_config.json"
        saved = json.loads(saved_path.read_text())
        prefix = _to_flags(saved)
    policy_type = _flag_value(prefix + argv, "--policy.type") or "diffusion"
    description = (
        __doc__.split("\n\n")[0]
        + f"\nPolicy flags shown for --policy.type={policy_type}; "
        + ", ".join(f"`--policy.type={t} --help` shows {t}'s" for t in POLICIES if t != policy_type)
        + "."
    )
    # later flags override earlier ones: saved config first, then the command line
    return parse_config(train_args_class(policy_type), prefix + argv, prog="robotlearn train", description=description)


# --- helpers ---------------------------------------------------------------------------------


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device={name}: CUDA is not available on this machine; use --device=cpu")
    return device


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Loggers:
    """TensorBoard (if installed) and wandb (if enabled); `log(step, scalars)` writes to both."""

    def __init__(self, args, output_dir: Path):
        self.tb = self.wandb = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(output_dir / "tensorboard"))
        except ImportError:
            warnings.warn("tensorboard is not installed (pip install 'robotlearn[train]'): no TensorBoard logs",
                          stacklevel=2)
        if args.wandb.enable:
            try:
                import wandb
            except ImportError:
                warnings.warn("--wandb.enable=true but wandb is not installed (pip install wandb): skipping wandb",
                              stacklevel=2)
            else:
                self.wandb = wandb.init(project=args.wandb.project, config=config_to_dict(args), dir=str(output_dir),
                                        resume="allow")

    def log(self, step: int, scalars: dict, prefix: str) -> None:
        for key, value in scalars.items():
            if self.tb is not None:
                self.tb.add_scalar(f"{prefix}/{key}", value, step)
        if self.wandb is not None:
            self.wandb.log({f"{prefix}/{k}": v for k, v in scalars.items()}, step=step)

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()
        if self.wandb is not None:
            self.wandb.finish()


def _amp(args, device: torch.device):
    """(autocast context factory, GradScaler or None)."""
    if not args.use_amp:
        return nullcontext, None
    if device.type != "cuda":
        warnings.warn(f"--use_amp is for CUDA; ignored on {device}", stacklevel=2)
        return nullcontext, None
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
    return (lambda: torch.autocast("cuda", dtype=dtype)), scaler


# --- the training loop -----------------------------------------------------------------------


@dataclass
class TrainResult:
    checkpoint_dir: Path  # the last checkpoint written
    policy: object  # the trained policy with its inference weights (EMA when on), in eval mode


def train(args) -> TrainResult:
    """Runs training as configured by `args` (a TrainArgs, see `parse_train_args`)."""
    from robotlearn.datasets import LeRobotDataset, LeRobotDatasetMetadata

    output_dir = Path(args.output_dir)
    if not args.resume and (output_dir / "checkpoints").exists():
        raise ConfigError(
            f"--output_dir={output_dir} already holds checkpoints: pass --resume to continue, or choose a new directory"
        )
    if not args.dataset.repo_id and not args.dataset.root:
        raise ConfigError("give the dataset with --dataset.repo_id=user/name and/or --dataset.root=DIR")
    repo_id = args.dataset.repo_id or f"local/{Path(args.dataset.root).name}"
    device = resolve_device(args.device)
    if args.deterministic:
        torch.use_deterministic_algorithms(True)
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    if args.lr is not None:
        args.policy.lr = args.lr
    set_seed(args.seed)

    meta = LeRobotDatasetMetadata(repo_id, root=args.dataset.root)
    policy = make_policy_from_config(args.policy, meta).to(device)
    # Decode only the cameras the policy looks at (none for a state-only policy).
    dataset = LeRobotDataset(repo_id, root=args.dataset.root, episodes=args.dataset.episodes,
                             delta_timestamps=policy.delta_timestamps(meta.fps), return_uint8=True,
                             camera_keys=policy.config.image_keys)
    cfg = policy.config
    optimizer = make_optimizer(policy, cfg.lr, cfg.weight_decay)
    scheduler = make_scheduler(optimizer, cfg.scheduler, cfg.warmup_steps, args.steps)
    ema = EMA(policy) if cfg.use_ema else None
    autocast, scaler = _amp(args, device)

    step, samples_seen = 0, 0
    if args.resume:
        checkpoint = last_checkpoint(output_dir)
        state = load_checkpoint(checkpoint, policy, optimizer, scheduler, ema, scaler)
        step, samples_seen = state["step"], state["samples_seen"]
        log.info("resumed from %s at step %d", checkpoint, step)
    output_dir.mkdir(parents=True, exist_ok=True)
    train_config = config_to_dict(args)
    train_config["resume"] = False
    (output_dir / "train_config.json").write_text(json.dumps(train_config, indent=2))

    loader = torch.utils.data.DataLoader(
        dataset,
        batch_size=args.batch_size,
        sampler=ResumableSampler(len(dataset), args.seed, start=samples_seen),
        num_workers=args.num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=args.num_workers > 0,
        # own generator: creating the iterator must not draw from the global RNG (exact resume)
        generator=torch.Generator(),
    )
    loggers = Loggers(args, output_dir)
    n_params = sum(p.numel() for p in policy.parameters())
    print(f"{cfg.type}: {n_params / 1e6:.2f}M parameters, {len(dataset)} frames in {dataset.num_episodes} episodes, "
          f"device {device}, steps {step}->{args.steps}")

    from tqdm import tqdm

    bar = tqdm(total=args.steps, initial=step, disable=not args.progress, desc="train", dynamic_ncols=True)
    checkpoint_dir = None
    policy.train()
    t_last, samples_last = time.perf_counter(), samples_seen
    loader_iter = iter(loader)
    deadline = time.perf_counter() + args.time_limit_s if args.time_limit_s > 0 else math.inf
    while step < args.steps:
        batch = next(loader_iter)
        with autocast():
            loss, info = policy(batch)
        if not math.isfinite(loss.item()):
            raise FloatingPointError(f"loss is {loss.item()} at step {step}: lower --lr or check the dataset stats")
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
        else:
            loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.grad_clip_norm)
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        scheduler.step()
        if ema is not None:
            ema.update(policy)
        step += 1
        samples_seen += len(batch["index"])

        if step % args.log_freq == 0 or step == args.steps:
            now = time.perf_counter()
            rate = (samples_seen - samples_last) / max(now - t_last, 1e-9)
            t_last, samples_last = now, samples_seen
            scalars = {**info, "grad_norm": float(grad_norm), "lr": scheduler.get_last_lr()[0], "samples_per_s": rate}
            loggers.log(step, scalars, "train")
            bar.set_postfix(loss=f"{info['loss']:.4f}", samples_s=f"{rate:.0f}")
            if not args.progress:
                print(f"step {step}/{args.steps}: loss {info['loss']:.4f}, {rate:.0f} samples/s", flush=True)
        bar.update(1)
        out_of_time = time.perf_counter() > deadline
        if step % args.save_freq == 0 or step == args.steps or out_of_time:
            checkpoint_dir = save_checkpoint(output_dir, step, samples_seen, args.seed, policy, train_config,
                                             optimizer, scheduler, ema, scaler)
        if args.eval_freq > 0 and (step % args.eval_freq == 0 or step == args.steps):
            results = _evaluate_during_training(policy, ema, args, device)
            loggers.log(step, results, "eval")
            tqdm.write(f"step {step}: eval success rate {results['success_rate']:.2f}, "
                       f"mean max reward {results['avg_max_reward']:.3f}")
        if out_of_time:
            tqdm.write(f"--time_limit_s={args.time_limit_s:g} reached at step {step}; checkpoint saved "
                       f"(continue with --resume)")
            break
    bar.close()
    loggers.close()
    del loader_iter
    if ema is not None:
        ema.copy_to(policy)
    return TrainResult(checkpoint_dir or last_checkpoint(output_dir), policy.eval())


def _evaluate_during_training(policy, ema, args, device) -> dict:
    """Evaluates the inference weights (EMA when on) and restores the training weights afterwards."""
    from robotlearn.scripts.eval import evaluate_policy

    raw = {k: v.clone() for k, v in policy.state_dict().items()} if ema is not None else None
    if ema is not None:
        ema.copy_to(policy)
    # evaluation must not shift the training RNG streams
    rng = (torch.get_rng_state(), np.random.get_state(), random.getstate())
    policy.eval()
    try:
        out = evaluate_policy(policy, args.eval.n_episodes, args.eval.seed, max_steps=args.eval.max_steps,
                              device=device, progress=False)
    finally:
        torch.set_rng_state(rng[0]), np.random.set_state(rng[1]), random.setstate(rng[2])
        if raw is not None:
            policy.load_state_dict(raw)
        policy.train()
    return out["aggregated"]


def main(argv: list[str] | None = None) -> int:
    import sys

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_train_args(argv)
    checkpoint = train(args).checkpoint_dir
    print(f"checkpoint: {checkpoint}\nevaluate with: robotlearn eval --policy.path={checkpoint / 'pretrained_model'}")
    return 0
