"""An endless, resumable data order: epoch e visits every index once, in the permutation of (seed, e).

Training position is one integer, the number of samples consumed so far (`samples_seen`):
epoch = samples_seen // n and the offset inside that epoch's permutation = samples_seen % n. A run
resumed from a checkpoint starts the sampler at the saved `samples_seen` and sees exactly the
batches an uninterrupted run would have seen.

With several processes (`GlobalBatchSampler`), the stream and its cut into global batches are the
same for any number of processes; each process takes its slice of every global batch, so a run
can resume with another number of processes and still see the same global batches.

With several datasets and sampling weights (`WeightedResumableSampler`), each position of the
stream is a draw: first the dataset (probability = its weight), then a frame of it (uniform, with
replacement, as torch's WeightedRandomSampler); the draws of each block of positions come from
their own generator, so the stream is again a function of (seed, position) and resumes exactly.
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


class WeightedResumableSampler(torch.utils.data.Sampler[int]):
    """Yields indices into a concatenation of datasets forever: dataset k with probability
    weights[k] / sum(weights), then one of its `sizes[k]` frames uniformly (with replacement).

    Indices are global: dataset k's frames are offsets[k] ... offsets[k] + sizes[k] - 1, offsets the
    running sums of `sizes` (the layout of `MultiLeRobotDataset`). The stream is cut into blocks of
    `sum(sizes)` positions, block e drawn from a generator seeded with (seed, e), so starting at
    `start` gives exactly the positions an uninterrupted stream has there.

    Args:
        sizes: frames in each dataset (each > 0).
        weights: sampling weight of each dataset (>= 0, not all 0); normalized here.
        seed: base seed.
        start: samples already consumed (0 for a fresh run).
    """

    def __init__(self, sizes: list[int], weights: list[float], seed: int, start: int = 0):
        if len(sizes) != len(weights):
            raise ValueError(f"{len(sizes)} datasets but {len(weights)} weights")
        if any(n <= 0 for n in sizes):
            raise ValueError(f"cannot sample from an empty dataset: frames per dataset {sizes}")
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError(f"sampling weights must be >= 0 with a positive sum, got {weights}")
        self.sizes, self.seed, self.start = list(sizes), seed, start
        self.weights = torch.tensor(weights, dtype=torch.float64) / sum(weights)
        self.offsets = torch.tensor([0, *sizes[:-1]], dtype=torch.int64).cumsum(0)
        self.block = sum(sizes)

    def block_indices(self, block: int) -> torch.Tensor:
        """The `sum(sizes)` global indices of stream block `block`, int64."""
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + block)
        which = torch.multinomial(self.weights, self.block, replacement=True, generator=g)  # dataset per position
        sizes = torch.tensor(self.sizes, dtype=torch.float64)[which]
        local = (torch.rand(self.block, generator=g, dtype=torch.float64) * sizes).long()
        return self.offsets[which] + local

    def __iter__(self) -> Iterator[int]:
        block, offset = divmod(self.start, self.block)
        while True:
            yield from self.block_indices(block)[offset:].tolist()
            block, offset = block + 1, 0

    def __len__(self) -> int:
        return 2**62


class GlobalBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Global batches of `batch_size` consecutive indices of the ResumableSampler stream, each cut in
    `world_size` equal slices of which this process (`rank`) yields its own, forever.

    Global batch k holds stream positions start + k * batch_size ... start + (k + 1) * batch_size - 1;
    process r gets its positions r * b ... (r + 1) * b - 1 with b = batch_size // world_size. With
    world_size 1 this is DataLoader(batch_size=batch_size, sampler=ResumableSampler(...)).
    `samples` replaces that stream (e.g. a WeightedResumableSampler started at `start`); n, seed,
    start and shuffle are then unused.
    """

    def __init__(
        self,
        n: int,
        seed: int,
        batch_size: int,
        start: int = 0,
        rank: int = 0,
        world_size: int = 1,
        shuffle=True,
        samples: torch.utils.data.Sampler[int] | None = None,
    ):
        if batch_size % world_size or not 0 <= rank < world_size:
            raise ValueError(f"a global batch of {batch_size} cannot be cut into {world_size} equal slices")
        self.samples = samples if samples is not None else ResumableSampler(n, seed, start=start, shuffle=shuffle)
        self.batch_size, self.rank, self.world_size = batch_size, rank, world_size

    def __iter__(self) -> Iterator[list[int]]:
        stream = iter(self.samples)
        b = self.batch_size // self.world_size
        while True:
            batch = list(islice(stream, self.batch_size))
            yield batch[self.rank * b : (self.rank + 1) * b]

    def __len__(self) -> int:
        return 2**62
