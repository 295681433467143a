"""An endless, resumable data order: epoch e visits every index once, in the permutation of (seed, e).

Training position is one integer, the number of samples consumed so far (`samples_seen`):
epoch = samples_seen // n and the offset inside that epoch's permutation = samples_seen % n. A run
resumed from a checkpoint starts the sampler at the saved `samples_seen` and sees exactly the
batches an uninterrupted run would have seen.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The order of epoch `epoch`: a permutation of range(n) drawn from its own generator."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=g)


class ResumableSampler(torch.utils.data.Sampler[int]):
    """Yields dataset indices forever, epoch after epoch, starting after `start` samples.

    Args:
        n: dataset length.
        seed: base seed of the permutations.
        start: samples already consumed (0 for a fresh run).
        shuffle: False gives 0..n-1 every epoch.
    """

    def __init__(self, n: int, seed: int, start: int = 0, shuffle: bool = True):
        if n <= 0:
            raise ValueError("cannot sample from an empty dataset (0 frames); record some episodes first")
        self.n, self.seed, self.start, self.shuffle = n, seed, start, shuffle

    def __iter__(self) -> Iterator[int]:
        epoch, offset = divmod(self.start, self.n)
        while True:
            order = epoch_permutation(self.n, self.seed, epoch) if self.shuffle else torch.arange(self.n)
            yield from order[offset:].tolist()
            epoch, offset = epoch + 1, 0

    def __len__(self) -> int:  # a DataLoader asks; the stream is endless
        return 2**62
