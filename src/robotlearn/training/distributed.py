"""Training on several processes: DistributedDataParallel over gloo (CPU) or NCCL (CUDA).

    torchrun --nproc_per_node=2 -m robotlearn.scripts.cli train --device=cpu ...     # 2 CPU processes
    torchrun --nproc_per_node=4 -m robotlearn.scripts.cli train --device=cuda --use_amp ...
    accelerate launch --multi_gpu --num_processes=2 -m robotlearn.scripts.cli train ...   # accelerate's torchrun

A launcher starts N copies of `robotlearn train` and tells each its place through the environment
(RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT); without WORLD_SIZE > 1 training runs in
one process and nothing here does anything. Every process builds the same policy from the same
seed, reads the same checkpoint on --resume and walks the same global sample stream, taking its
slice of every global batch of --batch_size samples (sampler.GlobalBatchSampler). DDP averages the
gradients, so every process takes the same optimizer step; process 0 writes logs and checkpoints.

Independent of N (the same weights for any number of processes, up to float rounding): the data
order, the policies' random draws (per sample: policies/per_sample.py), the losses (means over
samples), gradient clipping (of the averaged gradient), the LR schedule and the EMA. Not
independent of N: BatchNorm statistics (ACT's ResNet-18, when it has a camera) are those of each
process's slice on the CPU (torch's SyncBatchNorm has no CPU kernels; on CUDA the BatchNorm layers
become SyncBatchNorm, with the statistics of the global batch), and dropout masks (ACT's
--policy.dropout, 0.1 by default), which each process draws from its own generator, reseeded
every step from (seed, rank, step).

A process that dies or hangs makes the others fail at their next collective: gloo notices a
closed connection at once, a silent process after --dist_timeout_s. They raise DistributedError,
leave the process group and exit; `--resume` continues from the last checkpoint, with any N.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn

from robotlearn.errors import ConfigError, TrainingError
from robotlearn.utils.device import resolve_device


class DistributedError(TrainingError, RuntimeError):
    """Training processes could not join each other, or one lost contact with the others (died or hung)."""


# Text of the errors gloo and NCCL raise (as plain RuntimeErrors in torch 2.x) when a peer is gone.
_COLLECTIVE_ERROR_MARKS = (
    "gloo",
    "NCCL",
    "monitoredBarrier",
    "Connection reset",
    "Connection closed",
    "Broken pipe",
    "imed out",
)


def launched_world_size() -> int:
    """The number of processes a launcher (torchrun, accelerate launch) started: WORLD_SIZE, else 1."""
    return int(os.environ.get("WORLD_SIZE", "1") or 1)


def is_collective_error(error: BaseException) -> bool:
    """True for the errors a collective (all-reduce, barrier) raises when another process died or hung."""
    dist_error = getattr(dist, "DistError", None)
    if dist_error is not None and isinstance(error, dist_error):
        return True
    return isinstance(error, RuntimeError) and any(m in str(error) for m in _COLLECTIVE_ERROR_MARKS)


def _device_for(flag: str, local_rank: int, world_size: int) -> torch.device:
    """The device of process `local_rank` on this machine: cuda:LOCAL_RANK for auto/cuda with a GPU, else cpu."""
    if flag == "auto":
        flag = "cuda" if torch.cuda.is_available() else "cpu"
    device = resolve_device(flag)
    if device.type == "mps":
        raise ConfigError(f"--device={flag}: torch has no multi-process backend for MPS; use --device=cpu")
    if device.type != "cuda":
        return device
    if device.index is not None:
        raise ConfigError(
            f"--device={flag}: with {world_size} processes each one takes the GPU cuda:LOCAL_RANK; pass --device=cuda "
            "(and CUDA_VISIBLE_DEVICES to choose the GPUs)"
        )
    if local_rank >= torch.cuda.device_count():
        raise ConfigError(
            f"LOCAL_RANK={local_rank} but this machine shows {torch.cuda.device_count()} GPU(s): start at most that "
            "many processes per node (torchrun --nproc_per_node), or use --device=cpu"
        )
    return torch.device("cuda", local_rank)


@dataclass
class Distributed:
    """This process's place among the training processes, and the collectives training needs.

    With world_size 1 (no launcher) every method is a no-op: `wrap` returns the policy itself."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    timeout_s: float = 600.0
    owns_group: bool = False  # this object started the process group (and ends it in close())

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """Process 0, the one that prints, logs and writes checkpoints."""
        return self.rank == 0

    def prepare(self, policy: nn.Module) -> nn.Module:
        """Before the optimizer is built: BatchNorm -> SyncBatchNorm on CUDA; on the CPU, a warning."""
        if not self.enabled or not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in policy.modules()):
            return policy
        if self.device.type == "cuda":
            return nn.SyncBatchNorm.convert_sync_batchnorm(policy)
        if self.is_main:
            warnings.warn(
                "the policy has BatchNorm layers (ACT's ResNet-18): on the CPU each process normalizes with the "
                "statistics of its own slice of the batch, so results depend on the number of processes",
                stacklevel=2,
            )
        return policy

    def wrap(self, policy: nn.Module) -> nn.Module:
        """DistributedDataParallel around the policy (gradients averaged over processes), or the policy itself."""
        if not self.enabled:
            return policy
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(policy, device_ids=device_ids)

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sum of `values` over the processes (every process must call it with as many)."""
        if not self.enabled:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.tolist()

    def mean(self, scalars: dict[str, float]) -> dict[str, float]:
        """Each scalar averaged over the processes (the same keys, in the same order, on every process)."""
        keys = list(scalars)
        totals = self.sum([float(scalars[k]) for k in keys])
        return {k: v / self.world_size for k, v in zip(keys, totals)}

    def barrier(self) -> None:
        """Waits for every process (on gloo, a monitored barrier that names the missing ones)."""
        if not self.enabled:
            return
        if dist.get_backend() == "gloo":
            dist.monitored_barrier(timeout=timedelta(seconds=self.timeout_s))
        else:
            dist.barrier(device_ids=[self.device.index] if self.device.type == "cuda" else None)

    def lost_contact(self, error: BaseException, step: int) -> DistributedError:
        """The error to raise when a collective failed because another process is gone."""
        # "[.../gloo/transport/tcp/pair.cc:537] Read error [127.0.0.1]:36004: Connection reset by peer. This is ..."
        lines = str(error).strip().splitlines()
        cause = re.sub(r"^\[[^\]]*\]\s*", "", lines[0]).split(". ")[0][:300] if lines else type(error).__name__
        return DistributedError(
            f"process {self.rank} of {self.world_size} lost contact with the other training processes at step "
            f"{step} ({cause}). Another process has probably died (killed, out of memory, crashed: see its output) or "
            f"hung for more than --dist_timeout_s={self.timeout_s:g}; every process stops. Continue from the last "
            "checkpoint with the same command plus --resume, with any number of processes."
        )

    def close(self) -> None:
        """Leaves the process group this object started (a clean exit even when a peer is gone)."""
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()
        self.owns_group = False


def setup_distributed(device_flag: str, timeout_s: float = 600.0) -> Distributed:
    """Joins the launcher's process group when WORLD_SIZE > 1 (gloo on CPU, NCCL on CUDA), else one process.

    A process group the caller already started (e.g. by `accelerate`'s Accelerator) is used as is.
    Raises ConfigError for a device that cannot be shared out, DistributedError when joining fails."""
    if launched_world_size() <= 1 and not dist.is_initialized():
        return Distributed(device=resolve_device(device_flag), timeout_s=timeout_s)
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    world_size = launched_world_size()
    device = _device_for(device_flag, local_rank, world_size)
    owns = not dist.is_initialized()
    if owns:
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        try:
            dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
        except (RuntimeError, ValueError) as e:
            where = f"{os.environ.get('MASTER_ADDR', '?')}:{os.environ.get('MASTER_PORT', '?')}"
            raise DistributedError(
                f"process {rank} of {world_size} could not join the others at {where} over {backend}: {e}"
            ) from e
    rank, world_size = dist.get_rank(), dist.get_world_size()
    return Distributed(rank, world_size, local_rank, device, timeout_s, owns_group=owns)
