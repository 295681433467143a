"""`collate_samples`: a DataLoader `collate_fn` that hands HD batches from workers through reused shared memory.

    loader = DataLoader(ds, batch_size=8, num_workers=2, collate_fn=collate_samples)

It returns exactly what `torch.utils.data.default_collate` returns for dicts of tensors (same keys, shapes,
dtypes and values; lists for strings), but moves them differently. default_collate stacks each key into a
new shared-memory tensor in the worker, so every batch costs fresh shared pages (zeroed and faulted in by the
kernel) and one file-descriptor hand-off per key. With three 480x640 cameras that is ~30 MB of new pages per
batch of 8 and, on a 2-core machine, it costs about as much CPU as decoding the frames (bench_dataset.py).

Here each worker keeps a small pool of shared-memory slabs. A batch is laid out in one slab (every key a
view into it) and pickled as a reference to that slab plus the layout; the main process rebuilds a plain dict
of views. The first batch in a slab carries the slab itself (its file descriptor, handed over by
multiprocessing's resource sharer: a socket connection and an authentication round trip); the main process
keeps that mapping and marks it in the pool's small shared control array, and later batches in the slab
carry only its number. At HD that hand-off, repeated per batch, cost the main process ~1.5 ms of CPU per
batch of 8 beside two decoding workers on 2 cores, and a fresh mapping is page-faulted again by whoever
reads it. The main process lets go of a worker's mappings when that worker exits.

A slab is reused only once the main process has let go of every tensor that views it: each batch the main
process rebuilds views the slab through a storage of its own; when that is freed, the main process sets the
slab's flag in the control array, which the worker reads before reusing it. While the consumer still holds
a batch (or any view of it, e.g. `batch["action"][0]`) its slab is not touched; when no slab is free, a new
one is made, up to MAX_SLABS per worker, beyond which a batch gets a fresh slab of its own, as
default_collate would.

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
import select
import threading
import uuid
import weakref
from collections.abc import Callable

import numpy as np
import torch
from torch.utils.data import default_collate, get_worker_info

MAX_SLABS = 8  # per worker: prefetch_factor batches in flight + the one being built + those the consumer holds
ALIGN = 64  # bytes; each key's view starts on a cache line


class _SlabPool:
    """One worker process's slabs, and the control array the main process writes: per slot, whether it has
    let go of the slab (`released`), and which generation of the slab it holds a mapping of (`mapped`)."""

    def __init__(self):
        self.pid = os.getpid()
        self.token = uuid.uuid4().hex  # names this pool in the main process
        self.control = torch.zeros((2, MAX_SLABS), dtype=torch.int64).share_memory_()
        self.released, self.mapped = self.control.numpy()  # numpy views: a read costs ~0.1 us, not ~2
        self.slabs: list[torch.Tensor | None] = [None] * MAX_SLABS  # flat uint8 shared tensors
        self.generation = [0] * MAX_SLABS  # of each slot's slab: a replaced slab is a new mapping to send
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
            self.generation[slot] += 1
        else:
            return -1, torch.empty(nbytes, dtype=torch.uint8).share_memory_()
        self.busy[slot] = True
        return slot, self.slabs[slot]

    def release(self, slot: int) -> None:
        """Make a slab acquired but never sent to the main process reusable (slot -1: not pooled)."""
        if slot >= 0:
            self.busy[slot] = False

    def reference(self, slot: int, slab: torch.Tensor) -> tuple:
        """What a batch in `slab` pickles as, besides its layout: the slab's number, and the slab and the
        control array themselves unless the main process already holds this generation of the slab."""
        generation = self.generation[slot] if slot >= 0 else 0
        if slot >= 0 and self.mapped[slot] == generation:
            return self.token, self.pid, slot, generation, None, None
        return self.token, self.pid, slot, generation, slab, self.control if slot >= 0 else None


_POOL: _SlabPool | None = None
_POOLED_COLLATE_PID: int | None = None  # the worker process in which collate_samples has pooled a batch


def _pool() -> _SlabPool:
    global _POOL
    if _POOL is None or _POOL.pid != os.getpid():  # a forked child starts its own
        _POOL = _SlabPool()
    return _POOL


class _ReceivedPool:
    """Main-process side of one worker's pool: its control array, and the slabs mapped (slot -> (generation,
    the slab as numpy))."""

    def __init__(self, pid: int, control: torch.Tensor):
        self.pid = pid
        self.released, self.mapped = control.numpy()  # views that keep the shared array mapped
        self.slabs: dict[int, tuple[int, np.ndarray]] = {}


_RECEIVED: dict[str, _ReceivedPool] = {}  # pool token -> what this process received from it
_RECEIVED_LOCK = threading.Lock()  # pin_memory threads of several loaders may rebuild batches at once


def _rebuild_batch(token: str, pid: int, slot: int, generation: int, slab, control, layout: dict) -> dict:
    """Runs in the receiving process: the batch as views of its slab (`slab` None: the mapping this process
    kept from an earlier batch of that slot and generation)."""
    with _RECEIVED_LOCK:
        if slot < 0:  # not pooled: a slab of its own, as default_collate would send
            return _views(slab, layout)
        pool = _RECEIVED.get(token)
        if pool is None:
            if control is None:
                raise RuntimeError(
                    f"collate_samples: a batch refers to worker {pid}'s slab {slot}, never received here"
                )
            _forget_exited_pools()
            pool = _RECEIVED[token] = _ReceivedPool(pid, control)
            _forget_on_exit(pid, token)
        if slab is not None:
            pool.slabs[slot] = (generation, slab.numpy())
            pool.mapped[slot] = generation
        kept_generation, kept = pool.slabs[slot]
        if kept_generation != generation:
            raise RuntimeError(f"collate_samples: slab {slot} of worker {pid} is not the one this process mapped")
        # A storage of its own over the kept mapping, holding `own` (a numpy view of it) until this batch's
        # last view is dropped: then `own` is freed and the slab flagged released at once, in whichever
        # thread dropped it, so the worker gets it back for its next batch.
        own = kept[:]
        flat = torch.from_numpy(own)
        weakref.finalize(own, _release, pool.released, slot).atexit = False
    return _views(flat, layout)


def _release(released: np.ndarray, slot: int) -> None:
    released[slot] = 1


def _views(slab: torch.Tensor, layout: dict) -> dict:
    return {key: _view(slab, spec) if isinstance(spec, tuple) else spec.value for key, spec in layout.items()}


def _forget_on_exit(pid: int, token: str) -> None:
    """Drop this process's mappings of pool `token` once its worker `pid` exits (a thread waits on a pidfd);
    where pidfds are unavailable, `_forget_exited_pools` does it when the next pool appears."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return

    def wait() -> None:
        try:
            select.select([pidfd], [], [])  # readable once the process has exited
        finally:
            os.close(pidfd)
        with _RECEIVED_LOCK:
            _RECEIVED.pop(token, None)

    threading.Thread(target=wait, name=f"collate_samples-forget-{pid}", daemon=True).start()


def _forget_exited_pools() -> None:
    for token, pool in list(_RECEIVED.items()):
        try:
            os.kill(pool.pid, 0)
        except ProcessLookupError:
            del _RECEIVED[token]
        except PermissionError:  # alive, under another user
            pass


def _view(slab: torch.Tensor, spec: tuple) -> torch.Tensor:
    offset, nbytes, dtype, shape = spec
    return slab[offset : offset + nbytes].view(dtype).view(shape)


class _Collated:
    """A layout entry for a key that default_collate handled (kept as is)."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


class _PooledBatch(dict):
    """The batch as the worker built it; pickles as a reference to its slab, and its layout (see
    `_rebuild_batch`)."""

    __slots__ = ("_slot", "_reference")

    def __reduce__(self):
        return _rebuild_batch, self._reference()


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
    batch = _PooledBatch(_views(slab, layout))
    batch._slot = slot
    batch._reference = lambda: (*pool.reference(slot, slab), layout)  # decided when pickled
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
