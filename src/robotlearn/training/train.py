"""Train a policy (ACT, Diffusion, ...) on a LeRobotDataset, with exact resume.

    from robotlearn.training import TrainConfig, train
    result = train(TrainConfig(dataset=DatasetConfig(root="data/pusht"), steps=5000))
    result.metrics        # the logged training scalars, one dict per --log_freq steps

Each step: a batch of windows (the policy's `delta_timestamps`) -> loss -> AdamW step (gradient
clipping, LR schedule) -> EMA update (Diffusion). The data order is a function of (seed, epoch),
so a resumed run sees the same batches, with the same RNG draws, as an uninterrupted one.
`robotlearn train` is this function behind flags; see docs/training.md.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
import warnings
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from robotlearn.configs import config_to_dict
from robotlearn.errors import ConfigError, TrainingError
from robotlearn.policies.diffusion.config import DiffusionConfig
from robotlearn.policies.factory import make_policy_from_config
from robotlearn.policies.policy import PolicyConfig
from robotlearn.training.checkpoint import last_checkpoint, load_checkpoint, save_checkpoint
from robotlearn.training.ema import EMA
from robotlearn.training.loggers import Loggers
from robotlearn.training.optim import make_optimizer, make_scheduler
from robotlearn.training.sampler import ResumableSampler
from robotlearn.utils.device import resolve_device, set_seed

log = logging.getLogger("robotlearn.train")


@dataclass
class DatasetConfig:
    """The dataset to train on."""

    repo_id: str = ""
    """Dataset id user/name (also names the default root)."""
    root: str | None = None
    """Local dataset folder."""
    episodes: list[int] | None = None
    """Train on these episode indices only."""


@dataclass
class TrainEvalConfig:
    """Evaluation in simulation during training (see --eval_freq)."""

    n_episodes: int = 10
    """Episodes per evaluation during training."""
    seed: int = 100_000
    """Seed of the first evaluation episode."""
    max_steps: int = 300
    """Episode length limit, steps."""
    env_type: str = "pusht"
    """Simulator for evaluation (a name in robotlearn.envs.ENVS)."""


@dataclass
class WandbConfig:
    """Weights & Biases logging."""

    enable: bool = False
    """Log to Weights & Biases (needs `pip install wandb`)."""
    project: str = "robotlearn"
    """wandb project."""


@dataclass
class TrainConfig:
    """`robotlearn train`: train a policy on a dataset."""

    __removed_flags__ = {"lr": "--policy.lr"}

    dataset: DatasetConfig = field(default_factory=DatasetConfig)
    policy: PolicyConfig = field(default_factory=DiffusionConfig)
    eval: TrainEvalConfig = field(default_factory=TrainEvalConfig)
    wandb: WandbConfig = field(default_factory=WandbConfig)
    steps: int = 5000
    """Total optimizer steps (a resumed run continues to this)."""
    batch_size: int = 64
    """Samples per step."""
    num_workers: int = 2
    """DataLoader worker processes (0: load in the main process)."""
    output_dir: str = "outputs/train"
    """Where checkpoints and logs go."""
    save_freq: int = 1000
    """Save a checkpoint every N steps (and at the end)."""
    eval_freq: int = 0
    """Evaluate in simulation every N steps (0: never)."""
    log_freq: int = 100
    """Log loss/lr every N steps."""
    seed: int = 1000
    """Seed of weights init, data order and noise."""
    resume: bool = False
    """Continue from output_dir/checkpoints/last (its saved train_config.json gives the defaults)."""
    device: str = "auto"
    """cpu, cuda, cuda:1, mps or auto (cuda when available)."""
    use_amp: bool = False
    """Mixed precision on CUDA (bf16 when supported, else fp16)."""
    deterministic: bool = False
    """torch.use_deterministic_algorithms (slower)."""
    num_threads: int | None = None
    """torch CPU threads (default: torch's choice). On a busy or 2-core machine, 1 is often much faster than
    oversubscribed threads."""
    progress: bool = True
    """Show a progress bar (false: print a line every --log_freq steps)."""
    time_limit_s: float = 0.0
    """Stop after this many seconds of training, saving a checkpoint (0: no limit). `--resume` continues from it
    toward --steps."""


def saved_train_config(output_dir: str | Path) -> dict:
    """The train_config.json of the last checkpoint under `output_dir`, as a dict (defaults for --resume).

    Raises CheckpointError (a TrainingError) when there is no checkpoint to resume from."""
    path = last_checkpoint(Path(output_dir)) / "train_config.json"
    if not path.is_file():
        raise TrainingError(f"--resume: {path} not found: is --output_dir={output_dir} a training output directory?")
    saved = json.loads(path.read_text())
    if saved.get("lr", 0) is None:
        del saved["lr"]  # written by versions that had --lr (now --policy.lr)
    saved["resume"] = True
    return saved


MetricsCallback = Callable[[int, dict, str], None]


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
    metrics: list[dict] = field(default_factory=list)  # {"step", "loss", ...} every log_freq steps (this run)


def train(args: TrainConfig, on_log: MetricsCallback | None = None) -> TrainResult:
    """Runs training as configured by `args`.

    `on_log(step, scalars, prefix)` is called with every logged group of scalars (prefix "train"
    every `log_freq` steps, "eval" after each evaluation). Raises ConfigError for a bad
    configuration, DatasetError for an unreadable dataset, TrainingError when training diverges."""
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
    set_seed(args.seed)

    meta = LeRobotDatasetMetadata(repo_id, root=args.dataset.root)
    policy = make_policy_from_config(args.policy, meta).to(device)
    # Decode only the cameras the policy looks at (none for a state-only policy).
    dataset = LeRobotDataset(
        repo_id,
        root=args.dataset.root,
        episodes=args.dataset.episodes,
        delta_timestamps=policy.delta_timestamps(meta.fps),
        return_uint8=True,
        camera_keys=policy.config.image_keys,
    )
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
    print(
        f"{cfg.type}: {n_params / 1e6:.2f}M parameters, {len(dataset)} frames in {dataset.num_episodes} episodes, "
        f"device {device}, steps {step}->{args.steps}"
    )

    from tqdm import tqdm

    bar = tqdm(total=args.steps, initial=step, disable=not args.progress, desc="train", dynamic_ncols=True)
    checkpoint_dir = None
    metrics: list[dict] = []
    policy.train()
    t_last, samples_last = time.perf_counter(), samples_seen
    loader_iter = iter(loader)
    deadline = time.perf_counter() + args.time_limit_s if args.time_limit_s > 0 else math.inf
    while step < args.steps:
        batch = next(loader_iter)
        with autocast():
            loss, info = policy(batch)
        if not math.isfinite(loss.item()):
            raise TrainingError(f"loss is {loss.item()} at step {step}: lower --policy.lr or check the dataset stats")
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
            metrics.append({"step": int(step), **{k: float(v) for k, v in scalars.items()}})
            if on_log is not None:
                on_log(step, scalars, "train")
            bar.set_postfix(loss=f"{info['loss']:.4f}", samples_s=f"{rate:.0f}")
            if not args.progress:
                print(f"step {step}/{args.steps}: loss {info['loss']:.4f}, {rate:.0f} samples/s", flush=True)
        bar.update(1)
        out_of_time = time.perf_counter() > deadline
        if step % args.save_freq == 0 or step == args.steps or out_of_time:
            checkpoint_dir = save_checkpoint(
                output_dir, step, samples_seen, args.seed, policy, train_config, optimizer, scheduler, ema, scaler
            )
        if args.eval_freq > 0 and (step % args.eval_freq == 0 or step == args.steps):
            results = _evaluate_during_training(policy, ema, args, device)
            loggers.log(step, results, "eval")
            if on_log is not None:
                on_log(step, results, "eval")
            tqdm.write(
                f"step {step}: eval success rate {results['success_rate']:.2f}, "
                f"mean max reward {results['avg_max_reward']:.3f}"
            )
        if out_of_time:
            tqdm.write(
                f"--time_limit_s={args.time_limit_s:g} reached at step {step}; checkpoint saved "
                f"(continue with --resume)"
            )
            break
    bar.close()
    loggers.close()
    del loader_iter
    if ema is not None:
        ema.copy_to(policy)
    return TrainResult(checkpoint_dir or last_checkpoint(output_dir), policy.eval(), metrics)


def _evaluate_during_training(policy, ema, args, device) -> dict:
    """Evaluates the inference weights (EMA when on) and restores the training weights afterwards."""
    from robotlearn.envs import ENVS
    from robotlearn.evaluation.rollout import evaluate_policy

    raw = {k: v.clone() for k, v in policy.state_dict().items()} if ema is not None else None
    if ema is not None:
        ema.copy_to(policy)
    # evaluation must not shift the training RNG streams
    rng = (torch.get_rng_state(), np.random.get_state(), random.getstate())
    policy.eval()
    try:
        env_config = ENVS.config_class(args.eval.env_type, "--eval.env_type")()
        out = evaluate_policy(
            policy,
            args.eval.n_episodes,
            args.eval.seed,
            max_steps=args.eval.max_steps,
            device=device,
            env=env_config,
            progress=False,
        )
    finally:
        torch.set_rng_state(rng[0]), np.random.set_state(rng[1]), random.setstate(rng[2])
        if raw is not None:
            policy.load_state_dict(raw)
        policy.train()
    return out["aggregated"]
