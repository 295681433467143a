"""Train a policy (ACT, Diffusion, ...) on a LeRobotDataset, with exact resume.

    from robotlearn.training import TrainConfig, train
    result = train(TrainConfig(dataset=DatasetConfig(root="data/pusht"), steps=5000))
    result.metrics        # the logged training scalars, one dict per --log_freq steps

Each step: a batch of windows (the policy's `delta_timestamps`) -> loss -> AdamW step (gradient
clipping, LR schedule) -> EMA update (Diffusion). The data order is a function of (seed, epoch),
and the policies' random draws are made per sample from (seed, step, sample index), so a resumed
run sees the same batches, with the same draws, as an uninterrupted one. Under torchrun each
process takes its slice of every global batch (distributed.py), with the same result for any
number of processes. With `dataset.roots` it trains on several datasets at once, each drawn with its
`dataset.weights` (datasets/multi.py, `WeightedResumableSampler`; docs/vla.md). `robotlearn train`
is this function behind flags; see docs/training.md.
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
from robotlearn.datasets.collate import collate_samples
from robotlearn.errors import ConfigError, TrainingError
from robotlearn.policies.diffusion.config import DiffusionConfig
from robotlearn.policies.factory import make_policy_from_config
from robotlearn.policies.per_sample import SAMPLE_SEED_KEY, mix_seed, sample_seeds
from robotlearn.policies.policy import PolicyConfig
from robotlearn.training.checkpoint import last_checkpoint, load_checkpoint, save_checkpoint
from robotlearn.training.distributed import Distributed, is_collective_error, setup_distributed
from robotlearn.training.ema import EMA
from robotlearn.training.loggers import Loggers
from robotlearn.training.optim import make_optimizer, make_scheduler
from robotlearn.training.sampler import GlobalBatchSampler, WeightedResumableSampler
from robotlearn.utils.device import set_seed

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
    roots: list[str] | None = None
    """Several local dataset folders trained on together (comma-separated), instead of --dataset.root; 1-D
    features of different widths are zero-padded to the widest (only --policy.type=vla masks the padding)."""
    weights: list[float] | None = None
    """With --dataset.roots: the probability of drawing each dataset at a step (normalized; default: in proportion
    to their frames, i.e. every frame equally likely)."""

    def __post_init__(self):
        problems = []
        if self.roots is not None:
            if not self.roots:
                problems.append("--dataset.roots is empty: give comma-separated folders")
            if self.root:
                problems.append(f"--dataset.roots and --dataset.root={self.root} both given: use one")
            if self.episodes is not None:
                problems.append("--dataset.episodes selects episodes of one dataset: not with --dataset.roots")
        if self.weights is not None:
            if self.roots is None:
                problems.append("--dataset.weights needs --dataset.roots (one weight per folder)")
            elif len(self.weights) != len(self.roots):
                problems.append(
                    f"--dataset.weights has {len(self.weights)} values for {len(self.roots)} --dataset.roots"
                )
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                problems.append(f"--dataset.weights={self.weights}: need values >= 0 with a positive sum")
        if problems:
            raise ConfigError("; ".join(problems))


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
    """Samples per step (with several processes: the global batch, cut into one equal slice per process)."""
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
    dist_timeout_s: float = 600.0
    """Under torchrun: seconds a process waits for the others before failing (a checkpoint save or an --eval_freq
    evaluation by process 0 must fit in it; a process that dies is noticed at once)."""


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
    rank: int = 0  # this process's rank under torchrun (0 alone), the one that wrote the checkpoints when 0


def train(args: TrainConfig, on_log: MetricsCallback | None = None) -> TrainResult:
    """Runs training as configured by `args`: in this process, or as one of several under torchrun.

    `on_log(step, scalars, prefix)` is called (by process 0) with every logged group of scalars
    (prefix "train" every `log_freq` steps, "eval" after each evaluation). Raises ConfigError for a
    bad configuration, DatasetError for an unreadable dataset, TrainingError when training
    diverges, DistributedError (a TrainingError) when another training process died or hung."""
    dist = setup_distributed(args.device, args.dist_timeout_s)
    try:
        return _train(args, dist, on_log)
    finally:
        dist.close()


def _make_loader(dataset, args: TrainConfig, dist: Distributed, samples_seen: int):
    """This process's slices of the global batches, from stream position `samples_seen` on (with
    --dataset.weights, drawn by `WeightedResumableSampler`)."""
    stream = None
    if args.dataset.weights is not None:
        stream = WeightedResumableSampler(dataset.sizes, args.dataset.weights, args.seed, start=samples_seen)
    sampler = GlobalBatchSampler(
        len(dataset),
        args.seed,
        args.batch_size,
        start=samples_seen,
        rank=dist.rank,
        world_size=dist.world_size,
        samples=stream,
    )
    return torch.utils.data.DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=args.num_workers,
        collate_fn=collate_samples,  # workers hand batches over in reused shared memory (datasets/collate.py)
        pin_memory=dist.device.type == "cuda",
        persistent_workers=args.num_workers > 0,
        # own generator: creating the iterator must not draw from the global RNG (exact resume)
        generator=torch.Generator(),
    )


def _open_datasets(args: TrainConfig, policy_type: str):
    """(metadata, dataset builder): the one dataset of --dataset.root/repo_id, or the
    MultiDatasetMetadata of --dataset.roots and a builder of their MultiLeRobotDataset.

    The builder takes the policy (for its delta_timestamps and cameras) and returns the dataset."""
    from robotlearn.datasets import LeRobotDataset, LeRobotDatasetMetadata
    from robotlearn.policies.factory import POLICIES

    def one(repo_id, root, policy, episodes=None):
        # Decode only the cameras the policy looks at (none for a state-only policy).
        return LeRobotDataset(
            repo_id,
            root=root,
            episodes=episodes,
            delta_timestamps=policy.delta_timestamps(meta.fps),
            return_uint8=True,
            camera_keys=policy.config.image_keys,
        )

    if args.dataset.roots is None:
        repo_id = args.dataset.repo_id or f"local/{Path(args.dataset.root).name}"
        meta = LeRobotDatasetMetadata(repo_id, root=args.dataset.root)
        return meta, lambda policy: one(repo_id, args.dataset.root, policy, args.dataset.episodes)

    from robotlearn.datasets.multi import MultiDatasetMetadata, MultiLeRobotDataset

    metas = [LeRobotDatasetMetadata(f"local/{Path(root).name}", root=root) for root in args.dataset.roots]
    meta = MultiDatasetMetadata(metas)
    if args.policy.relative_actions:
        raise ConfigError("--policy.relative_actions needs one dataset's statistics: not with --dataset.roots")
    if meta.padded_keys and not getattr(POLICIES.get(policy_type, "--policy.type"), "masks_padded_dims", False):
        widths = {k: meta.widths[k] for k in meta.padded_keys}
        raise ConfigError(
            f"--dataset.roots: the datasets' widths differ ({widths}); --policy.type={policy_type} would learn the "
            "zero padding: use --policy.type=vla, which masks it, or datasets of one robot"
        )
    return meta, lambda policy: MultiLeRobotDataset([one(m.repo_id, m.root, policy) for m in metas], meta)


def _train(args: TrainConfig, dist: Distributed, on_log: MetricsCallback | None) -> TrainResult:
    output_dir = Path(args.output_dir)
    if not args.resume and (output_dir / "checkpoints").exists():
        raise ConfigError(
            f"--output_dir={output_dir} already holds checkpoints: pass --resume to continue, or choose a new directory"
        )
    if not args.dataset.repo_id and not args.dataset.root and not args.dataset.roots:
        raise ConfigError(
            "give the dataset with --dataset.repo_id=user/name and/or --dataset.root=DIR (several: --dataset.roots=A,B)"
        )
    if args.batch_size % dist.world_size:
        raise ConfigError(
            f"--batch_size={args.batch_size} is the global batch, cut into {dist.world_size} equal slices (one per "
            f"process): use a multiple of {dist.world_size}"
        )
    device = dist.device
    if args.deterministic:
        torch.use_deterministic_algorithms(True)
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    set_seed(args.seed)

    meta, open_dataset = _open_datasets(args, args.policy.type)
    policy = dist.prepare(make_policy_from_config(args.policy, meta).to(device))
    dataset = open_dataset(policy)
    cfg = policy.config
    optimizer = make_optimizer(policy, cfg.lr, cfg.weight_decay)
    scheduler = make_scheduler(optimizer, cfg.scheduler, cfg.warmup_steps, args.steps)
    ema = EMA(policy) if cfg.use_ema else None
    autocast, scaler = _amp(args, device)

    step, samples_seen = 0, 0
    if args.resume:  # every process reads the checkpoint, whatever the number of processes that wrote it
        checkpoint = last_checkpoint(output_dir)
        state = load_checkpoint(checkpoint, policy, optimizer, scheduler, ema, scaler)
        step, samples_seen = state["step"], state["samples_seen"]
        if dist.is_main:
            log.info("resumed from %s at step %d", checkpoint, step)
    train_config = config_to_dict(args)
    train_config["resume"] = False
    if dist.is_main:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / "train_config.json").write_text(json.dumps(train_config, indent=2))

    loader = _make_loader(dataset, args, dist, samples_seen)
    loggers = Loggers(args, output_dir) if dist.is_main else None
    n_params = sum(p.numel() for p in policy.parameters())
    if dist.is_main:
        processes = f", {dist.world_size} processes of {args.batch_size // dist.world_size} samples" * dist.enabled
        print(
            f"{cfg.type}: {n_params / 1e6:.2f}M parameters, {len(dataset)} frames in {dataset.num_episodes} episodes"
            f"{f' of {len(args.dataset.roots)} datasets' if args.dataset.roots else ''}, "
            f"device {device}{processes}, steps {step}->{args.steps}"
        )

    from tqdm import tqdm

    bar = tqdm(
        total=args.steps, initial=step, disable=not (args.progress and dist.is_main), desc="train", dynamic_ncols=True
    )
    checkpoint_dir = None
    metrics: list[dict] = []
    policy.train()
    t_last, samples_last = time.perf_counter(), samples_seen
    loader_iter = iter(loader)
    deadline = time.perf_counter() + args.time_limit_s if args.time_limit_s > 0 else math.inf
    try:
        model = dist.wrap(policy)  # DDP (several processes): waits for all of them, then averages the gradients
        while step < args.steps:
            batch = next(loader_iter)
            batch[SAMPLE_SEED_KEY] = sample_seeds(args.seed, step, batch["index"])  # the policy's per-sample draws
            if dist.enabled:  # what is still drawn from the global generator (dropout) differs per process
                torch.manual_seed(mix_seed(args.seed, dist.rank, step))
            with autocast():
                loss, info = model(batch)
            # every process must agree on stopping: the mean loss, and whether any is out of time
            loss_sum, n_out_of_time = dist.sum([loss.item(), float(time.perf_counter() > deadline)])
            loss_value, out_of_time = loss_sum / dist.world_size, n_out_of_time > 0
            if not math.isfinite(loss_value):
                raise TrainingError(
                    f"loss is {loss_value} at step {step}: lower --policy.lr or check the dataset stats"
                )
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
            samples_seen += args.batch_size

            if step % args.log_freq == 0 or step == args.steps:
                now = time.perf_counter()
                rate = (samples_seen - samples_last) / max(now - t_last, 1e-9)
                t_last, samples_last = now, samples_seen
                info = dist.mean(info)  # the global batch's values
                scalars = {
                    **info,
                    "grad_norm": float(grad_norm),
                    "lr": scheduler.get_last_lr()[0],
                    "samples_per_s": rate,
                }
                metrics.append({"step": int(step), **{k: float(v) for k, v in scalars.items()}})
                if dist.is_main:
                    loggers.log(step, scalars, "train")
                    if on_log is not None:
                        on_log(step, scalars, "train")
                    bar.set_postfix(loss=f"{info['loss']:.4f}", samples_s=f"{rate:.0f}")
                    if not args.progress:
                        print(f"step {step}/{args.steps}: loss {info['loss']:.4f}, {rate:.0f} samples/s", flush=True)
            bar.update(1)
            if step % args.save_freq == 0 or step == args.steps or out_of_time:
                if dist.is_main:
                    checkpoint_dir = save_checkpoint(
                        output_dir,
                        step,
                        samples_seen,
                        args.seed,
                        policy,
                        train_config,
                        optimizer,
                        scheduler,
                        ema,
                        scaler,
                    )
                else:
                    checkpoint_dir = output_dir / "checkpoints" / f"{step:06d}"
            if dist.is_main and args.eval_freq > 0 and (step % args.eval_freq == 0 or step == args.steps):
                results = _evaluate_during_training(policy, ema, args, device)
                loggers.log(step, results, "eval")
                if on_log is not None:
                    on_log(step, results, "eval")
                tqdm.write(
                    f"step {step}: eval success rate {results['success_rate']:.2f}, "
                    f"mean max reward {results['avg_max_reward']:.3f}"
                )
            if out_of_time:
                if dist.is_main:
                    tqdm.write(
                        f"--time_limit_s={args.time_limit_s:g} reached at step {step}; checkpoint saved "
                        f"(continue with --resume)"
                    )
                break
        dist.barrier()  # the other processes return once process 0 has written the last checkpoint
    except RuntimeError as e:
        if dist.enabled and is_collective_error(e):
            raise dist.lost_contact(e, step) from e
        raise
    finally:
        bar.close()
        if loggers is not None:
            loggers.close()
        del loader_iter
    if ema is not None:
        ema.copy_to(policy)
    return TrainResult(checkpoint_dir or last_checkpoint(output_dir), policy.eval(), metrics, dist.rank)


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
