"""What makes a training batch's gradient the mean of its slices' gradients: per-sample noise and losses.

Distributed training (robotlearn.training.distributed) splits every global batch of B samples among
N processes and averages their gradients. That equals the gradient of one process on all B samples
only if nothing in a sample's loss depends on the other samples of its slice:

- random draws (Diffusion's noise, timestep and crop offsets, ACT's CVAE sample z) come from one
  generator per sample, seeded by `batch[SAMPLE_SEED_KEY]`, which training derives from
  (seed, step, the sample's dataset index) with `sample_seeds`: the same numbers whichever process,
  slice or position in the batch the sample lands in;
- a loss over padded windows is averaged per sample first, then over samples (`per_sample_mean`),
  so the loss of a batch is the mean of its slices' losses.

Without `SAMPLE_SEED_KEY` in the batch (a policy called by hand, the golden tests) the draws come
from torch's global generator, as before.
"""

from __future__ import annotations

import torch

SAMPLE_SEED_KEY = "sample_seed"
_MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    """One step of SplitMix64 (Steele et al. 2014): a well-mixed 64-bit hash of a 64-bit integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def mix_seed(*parts: int) -> int:
    """A 63-bit seed that depends on every one of `parts` (non-negative ints) and their order."""
    x = 0
    for part in parts:
        x = _splitmix64(x ^ (int(part) & _MASK64))
    return x >> 1


def sample_seeds(seed: int, step: int, index: torch.Tensor) -> torch.Tensor:
    """(B,) int64 per-sample seeds for training step `step` from the samples' dataset indices (B,)."""
    return torch.tensor([mix_seed(seed, step, i) for i in index.tolist()], dtype=torch.int64)


class SampleRandom:
    """Random tensors with one row per sample, row i drawn from a generator seeded by `seeds[i]` alone.

    Each call draws the next numbers of every sample's generator, so a policy must make its draws in
    a fixed order. With `seeds=None`, each call is one draw from torch's global generator instead.

    Args:
        seeds: (B,) int64 tensor, or None.
        batch_size: B (used when `seeds` is None).
        device: where the returned tensors live (the draws are made on the CPU, then moved).
    """

    def __init__(self, seeds: torch.Tensor | None, batch_size: int, device: torch.device):
        self.batch_size, self.device = batch_size, device
        self.generators = None
        if seeds is not None:
            if len(seeds) != batch_size:
                raise ValueError(f"{SAMPLE_SEED_KEY} has {len(seeds)} entries for a batch of {batch_size}")
            self.generators = [torch.Generator().manual_seed(int(s)) for s in seeds.tolist()]

    @classmethod
    def from_batch(cls, batch: dict, batch_size: int, device: torch.device) -> SampleRandom:
        """Per-sample generators when `batch` holds SAMPLE_SEED_KEY, else the global generator."""
        return cls(batch.get(SAMPLE_SEED_KEY), batch_size, device)

    @property
    def per_sample(self) -> bool:
        return self.generators is not None

    def normal_like(self, x: torch.Tensor) -> torch.Tensor:
        """Standard normal noise shaped like `x` (B, ...), with its dtype and device."""
        if self.generators is None:
            return torch.randn_like(x)
        rows = [torch.randn(x.shape[1:], generator=g) for g in self.generators]
        return torch.stack(rows).to(device=x.device, dtype=x.dtype)

    def integers(self, low: int, high: int, shape: tuple[int, ...] = ()) -> torch.Tensor:
        """(B, *shape) int64, uniform in [low, high)."""
        if self.generators is None:
            return torch.randint(low, high, (self.batch_size, *shape), device=self.device)
        rows = [torch.randint(low, high, shape, generator=g) for g in self.generators]
        return torch.stack(rows).to(self.device)


def per_sample_mean(loss: torch.Tensor, is_pad: torch.Tensor | None) -> torch.Tensor:
    """Mean of an elementwise loss (B, T, D) over each sample's unpadded steps (is_pad (B, T)), then over samples.

    Every sample weighs the same however much of its window is padding, so the mean over a batch is
    the mean of the means over its equal-sized slices (what averaging gradients across processes needs).
    """
    if is_pad is None:
        return loss.mean()
    valid = (~is_pad).unsqueeze(-1).to(loss.dtype)  # (B, T, 1)
    per_sample = (loss * valid).sum(dim=(1, 2)) / (valid.sum(dim=(1, 2)) * loss.shape[-1]).clamp(min=1)
    return per_sample.mean()
