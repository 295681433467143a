"""An endless, resumable data order: epoch e visits every index once, in the permutation of (seed, e).

Training position is one integer, the number of samples consumed so far (`samples_seen`):
epoch = samples_seen // n and the offset inside that epoch's permutation = samples_seen % n. A run
resumed from a checkpoint starts the sampler at the saved `samples_seen` and sees exactly the
batches an uninterrupted run would have seen.

With several processes (`GlobalBatchSampler`), the stream and its cut into global batches are the
same for any number of processes; each process takes its slice of every global batch, so a run
can resume with another number of processes and still see the same global batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

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


class GlobalBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Global batches of `batch_size` consecutive indices of the ResumableSampler stream, each cut in
    `world_size` equal slices of which this process (`rank`) yields its own, forever.

    Global batch k holds stream positions start + k * batch_size ... start + (k + 1) * batch_size - 1;
    process r gets its positions r * b ... (r + 1) * b - 1 with b = batch_size // world_size. With
    world_size 1 this is DataLoader(batch_size=batch_size, sampler=ResumableSampler(...)).
    """

    def __init__(
        self, n: int, seed: int, batch_size: int, start: int = 0, rank: int = 0, world_size: int = 1, shuffle=True
    ):
        if batch_size % world_size or not 0 <= rank < world_size:
            raise ValueError(f"a global batch of {batch_size} cannot be cut into {world_size} equal slices")
        self.samples = ResumableSampler(n, seed, start=start, shuffle=shuffle)
        self.batch_size, self.rank, self.world_size = batch_size, rank, world_size

    def __iter__(self) -> Iterator[list[int]]:
        stream = iter(self.samples)
        b = self.batch_size // self.world_size
        while True:
            batch = list(islice(stream, self.batch_size))
            yield batch[self.rank * b : (self.rank + 1) * b]

    def __len__(self) -> int:
        return 2**62
