"""`collate_samples`: a DataLoader `collate_fn` that hands HD batches from workers through reused shared memory.

    loader = DataLoader(ds, batch_size=8, num_workers=2, collate_fn=collate_samples)

It returns exactly what `torch.utils.data.default_collate` returns for dicts of tensors (same keys, shapes,
dtypes and values; lists for strings), but moves them differently. default_collate stacks each key into a
new shared-memory tensor in the worker, so every batch costs fresh shared pages (zeroed and faulted in by the
kernel) and one file-descriptor hand-off per key. With three 480x640 cameras that is ~30 MB of new pages per
batch of 8 and, on a 2-core machine, it costs about as much CPU as decoding the frames (bench_dataset.py).

Here each worker keeps a small pool of shared-memory slabs. A batch is laid out in one slab (every key a
view into it) and pickled as that one slab plus the layout; the main process rebuilds a plain dict of views.
A slab is reused only once the main process has let go of every tensor that views it: the main process
tracks each received slab with a weak reference to its storage and, when that expires, sets the slab's flag in
a small shared array the worker reads before reusing it. While the consumer still holds a batch (or any
view of it, e.g. `batch["action"][0]`) its slab is not touched; when no slab is free, a new one is made, up to
MAX_SLABS per worker, beyond which a batch gets a fresh slab of its own, as default_collate would.

A map-style dataset can also skip the copy into the slab: its `__getitems__` (which the DataLoader calls with
each batch's indices) builds the samples through `prefill_batch`, which lays the batch out in a slab after
the first sample and hands the dataset each later sample's destination views (LeRobotDataset decodes its
frames straight into them). collate_samples then returns that slab as the batch. Stacking three 480x640
cameras into the slab costs ~7 ms per batch of 8, ~10% of a 2-worker loader's time (bench_dataset.py).
Only after collate_samples has run once in a worker does prefill_batch do this; before, or with another
collate_fn, it returns plain samples.

In the main process (num_workers=0) it is default_collate. Samples that are not dicts, and keys whose values
are not same-shape, same-dtype tensors (strings, numbers, nested values), are collated by default_collate.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable

import torch
from torch.multiprocessing.reductions import StorageWeakRef
from torch.utils.data import default_collate, get_worker_info

MAX_SLABS = 8  # per worker: prefetch_factor batches in flight + those the consumer holds + release lag
ALIGN = 64  # bytes; each key's view starts on a cache line


class _SlabPool:
    """One worker process's slabs and their release flags (written by the main process)."""

    def __init__(self):
        self.pid = os.getpid()
        self.token = uuid.uuid4().hex  # names this pool in the main process
        self.released = torch.zeros(MAX_SLABS, dtype=torch.uint8).share_memory_()
        self.slabs: list[torch.Tensor | None] = [None] * MAX_SLABS  # flat uint8 shared tensors
        self.busy = [False] * MAX_SLABS  # sent to the main process and not released yet

    def acquire(self, nbytes: int) -> tuple[int, torch.Tensor]:
        """(slot, slab of >= nbytes): a released slab when one fits, else a new one; slot -1 = not pooled."""
        for s in range(MAX_SLABS):
            if self.busy[s] and self.released[s]:
                self.busy[s] = False
                self.released[s] = 0
        free = [s for s in range(MAX_SLABS) if not self.busy[s]]
        fits = [s for s in free if self.slabs[s] is not None and self.slabs[s].numel() >= nbytes]
        if fits:
            slot = min(fits, key=lambda s: self.slabs[s].numel())
        elif free:
            slot = next((s for s in free if self.slabs[s] is None), free[0])
            self.slabs[slot] = None  # a free slab too small for this batch is replaced
            self.slabs[slot] = torch.empty(nbytes, dtype=torch.uint8).share_memory_()
        else:
            return -1, torch.empty(nbytes, dtype=torch.uint8).share_memory_()
        self.busy[slot] = True
        return slot, self.slabs[slot]

    def release(self, slot: int) -> None:
        """Make a slab acquired but never sent to the main process reusable (slot -1: not pooled)."""
        if slot >= 0:
            self.busy[slot] = False


_POOL: _SlabPool | None = None
_POOLED_COLLATE_PID: int | None = None  # the worker process in which collate_samples has pooled a batch


def _pool() -> _SlabPool:
    global _POOL
    if _POOL is None or _POOL.pid != os.getpid():  # a forked child starts its own
        _POOL = _SlabPool()
    return _POOL


# Main-process side: pool token -> (its release flags, {slot: weak reference to the received slab's storage}).
_RECEIVED: dict[str, tuple[torch.Tensor, dict[int, StorageWeakRef]]] = {}
_RECEIVED_LOCK = threading.Lock()  # pin_memory threads of several loaders may rebuild batches at once


def _rebuild_batch(slab: torch.Tensor, layout: dict, token: str, released: torch.Tensor, slot: int) -> dict:
    """Runs in the receiving process: flag the slabs it has let go of since, then view the batch in `slab`."""
    with _RECEIVED_LOCK:
        for pool_token, (flags, refs) in list(_RECEIVED.items()):
            for s, ref in list(refs.items()):
                if ref.expired():
                    flags[s] = 1
                    del refs[s]
            if not refs:
                del _RECEIVED[pool_token]
        if slot >= 0:
            _RECEIVED.setdefault(token, (released, {}))[1][slot] = StorageWeakRef(slab.untyped_storage())
    return {key: _view(slab, spec) if isinstance(spec, tuple) else spec.value for key, spec in layout.items()}


def _view(slab: torch.Tensor, spec: tuple) -> torch.Tensor:
    offset, nbytes, dtype, shape = spec
    return slab[offset : offset + nbytes].view(dtype).view(shape)


class _Collated:
    """A layout entry for a key that default_collate handled (kept as is)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class _PooledBatch(dict):
    """The batch as the worker built it; pickles as its slab and layout (see `_rebuild_batch`)."""

    __slots__ = ("_args",)

    def __reduce__(self):
        return _rebuild_batch, self._args


def _stackable(values: list) -> bool:
    first = values[0]
    return isinstance(first, torch.Tensor) and all(
        isinstance(v, torch.Tensor) and v.shape == first.shape and v.dtype == first.dtype and not v.is_sparse
        for v in values
    )


def _tensor_spec(offset: int, first: torch.Tensor, count: int) -> tuple[tuple, int]:
    """(layout entry of a key whose `count` values are tensors like `first`, the offset after it)."""
    nbytes = first.numel() * first.element_size() * count
    return (offset, nbytes, first.dtype, (count, *first.shape)), offset + -(-nbytes // ALIGN) * ALIGN


def _pooled_batch(slab: torch.Tensor, layout: dict, pool: _SlabPool, slot: int) -> _PooledBatch:
    batch = _PooledBatch()
    for key, spec in layout.items():
        batch[key] = _view(slab, spec) if isinstance(spec, tuple) else spec.value
    batch._args = (slab, layout, pool.token, pool.released, slot)
    return batch


class _PrefilledSamples(list):
    """Samples that `prefill_batch` already wrote into a slab: `views[key][j]` holds sample j's `key`."""

    def __init__(self, samples: list, slab: torch.Tensor, layout: dict, slot: int, views: dict):
        super().__init__(samples)
        self.originals = list(samples)
        self.slab, self.layout, self.slot, self.views = slab, layout, slot, views

    def intact(self) -> bool:
        """Whether this is still the list prefill_batch returned, every value in place (a caller may edit it)."""
        return len(self) == len(self.originals) and all(
            a is b and list(a) == list(self.layout) and all(_is_view(a[k], v[j]) for k, v in self.views.items())
            for j, (a, b) in enumerate(zip(self, self.originals))
        )


def _is_view(value, destination: torch.Tensor) -> bool:
    return (
        isinstance(value, torch.Tensor)
        and value.data_ptr() == destination.data_ptr()
        and value.shape == destination.shape
        and value.dtype == destination.dtype
    )


def prefill_batch(make_sample: Callable[[int, dict | None], dict], count: int) -> list:
    """The `count` samples of a batch, for a dataset's `__getitems__`: `make_sample(j, out)` returns sample j,
    where `out` is None or maps keys to the tensor sample j's value should be written into (it may write
    there, e.g. decode frames into it, or return its own tensor, which is then copied there).

    In a DataLoader worker whose collate_fn is collate_samples (seen once it has run), the batch is laid out
    in a pooled shared-memory slab after the first sample, so collate_samples returns it without stacking;
    otherwise this is `[make_sample(j, None) for j in range(count)]`."""
    if _POOLED_COLLATE_PID != os.getpid() or count < 2:
        return [make_sample(j, None) for j in range(count)]
    first = make_sample(0, None)
    if not isinstance(first, dict):
        return [first] + [make_sample(j, None) for j in range(1, count)]
    layout: dict = {}
    offset = 0
    for key, value in first.items():
        if isinstance(value, torch.Tensor) and not value.is_sparse:
            layout[key], offset = _tensor_spec(offset, value, count)
        else:
            layout[key] = None  # collated by default_collate once every sample is in
    pool = _pool()
    slot, slab = pool.acquire(max(offset, ALIGN))
    views = {key: _view(slab, spec) for key, spec in layout.items() if spec is not None}
    samples = [first]
    try:
        _place(first, layout, views, 0)
        for j in range(1, count):
            sample = make_sample(j, {key: view[j] for key, view in views.items()})
            if not _place(sample, layout, views, j):  # unlike the first: collated the ordinary way
                done = [_own_memory(s, slab) for s in [*samples, sample]]
                pool.release(slot)
                return done + [make_sample(k, None) for k in range(j + 1, count)]
            samples.append(sample)
    except BaseException:
        pool.release(slot)
        raise
    return _PrefilledSamples(samples, slab, layout, slot, views)


def _place(sample, layout: dict, views: dict, j: int) -> bool:
    """Put sample j's tensors in their slab views (copying those not written there); False if it does not
    have the first sample's keys, shapes and dtypes."""
    if not isinstance(sample, dict) or list(sample) != list(layout):
        return False
    for key, view in views.items():
        value, destination = sample[key], view[j]
        if not _is_view(value, destination):
            if not (
                isinstance(value, torch.Tensor)
                and value.shape == destination.shape
                and value.dtype == destination.dtype
                and not value.is_sparse
            ):
                return False
            destination.copy_(value)
            sample[key] = destination
    return True


def _own_memory(sample: dict, slab: torch.Tensor) -> dict:
    """`sample` with every tensor that views `slab` replaced by a copy (the slab is about to be reused)."""
    base = slab.untyped_storage().data_ptr()
    return {
        k: v.clone() if isinstance(v, torch.Tensor) and v.untyped_storage().data_ptr() == base else v
        for k, v in sample.items()
    }


def collate_samples(samples: list):
    """Collate a list of samples as `default_collate` does; in a DataLoader worker, into a reused
    shared-memory slab (see the module docstring). Pass it as the DataLoader's `collate_fn`."""
    global _POOLED_COLLATE_PID
    if get_worker_info() is None or not samples or not all(isinstance(s, dict) for s in samples):
        return default_collate(samples)
    _POOLED_COLLATE_PID = os.getpid()
    if isinstance(samples, _PrefilledSamples) and samples.intact():
        layout = {
            key: spec if spec is not None else _Collated(default_collate([s[key] for s in samples]))
            for key, spec in samples.layout.items()
        }
        return _pooled_batch(samples.slab, layout, _pool(), samples.slot)
    keys = list(samples[0])
    if any(list(s) != keys for s in samples[1:]):
        return default_collate(samples)  # raises or handles it exactly as default_collate does
    layout: dict = {}
    offset = 0
    for key in keys:
        values = [s[key] for s in samples]
        if _stackable(values):
            layout[key], offset = _tensor_spec(offset, values[0], len(values))
        else:
            layout[key] = _Collated(default_collate(values))
    pool = _pool()
    slot, slab = pool.acquire(max(offset, ALIGN))
    for key, spec in layout.items():
        if isinstance(spec, tuple):
            torch.stack([s[key] for s in samples], 0, out=_view(slab, spec))
    if isinstance(samples, _PrefilledSamples):  # edited after prefilling: copied into a slab of its own now
        pool.release(samples.slot)
    return _pooled_batch(slab, layout, pool, slot)
