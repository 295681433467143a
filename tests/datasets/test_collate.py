"""`collate_samples` gives default_collate's batches, and reuses a worker's shared memory only once released."""

import pickle
import time
from multiprocessing.reduction import ForkingPickler

import numpy as np
import pytest
import torch
from torch.multiprocessing import reductions  # also registers the reducers that share tensors

from robotlearn.datasets import LeRobotDataset, collate_samples
from robotlearn.datasets import collate as collate_mod
from robotlearn.datasets.synthetic import write_synthetic_dataset

DELTAS = {"observation.images.top": [-0.1, 0.0], "observation.state": [-0.1, 0.0], "action": [0.0, 0.1, 0.2, 0.3]}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("collate") / "ds"
    write_synthetic_dataset(root, num_episodes=3, episode_length=12, cameras={"top": (16, 16), "side": (16, 16)})
    return root


def assert_same_batch(got: dict, want: dict) -> None:
    assert list(got) == list(want)
    for key, value in want.items():
        if isinstance(value, torch.Tensor):
            assert got[key].dtype == value.dtype and got[key].shape == value.shape, key
            assert torch.equal(got[key], value), key
        else:
            assert got[key] == value, key


@pytest.mark.parametrize("num_workers", [0, 2])
def test_batches_equal_default_collate_even_when_all_are_kept(root, num_workers):
    ds = LeRobotDataset("x", root=root, delta_timestamps=DELTAS, return_uint8=True)
    order = list(np.random.default_rng(0).permutation(len(ds)))
    loader = torch.utils.data.DataLoader(
        ds, batch_size=4, sampler=order, num_workers=num_workers, collate_fn=collate_samples
    )
    kept = list(loader)  # every batch held at once: no worker may reuse the memory of any of them
    assert len(kept) == 9
    for b, batch in enumerate(kept):
        want = torch.utils.data.default_collate([ds[int(i)] for i in order[4 * b : 4 * b + 4]])
        assert_same_batch(batch, want)


def test_non_dict_samples_and_ragged_keys_fall_back_to_default_collate(monkeypatch):
    monkeypatch.setattr(collate_mod, "get_worker_info", lambda: object())  # as if in a worker
    pairs = [(torch.ones(2), 1), (torch.zeros(2), 2)]
    got = collate_samples(pairs)
    assert torch.equal(got[0], torch.tensor([[1.0, 1.0], [0.0, 0.0]])) and torch.equal(got[1], torch.tensor([1, 2]))
    samples = [{"a": torch.ones(2), "n": 3, "s": "x"}, {"a": torch.zeros(2), "n": 4, "s": "y"}]
    batch = collate_samples(samples)
    assert_same_batch(pickle.loads(ForkingPickler.dumps(batch)), torch.utils.data.default_collate(samples))


def test_a_slab_is_reused_only_after_the_receiver_dropped_every_view(monkeypatch):
    # One process plays both sides: collate as a worker, then unpickle as the main process would.
    monkeypatch.setattr(collate_mod, "get_worker_info", lambda: object())
    monkeypatch.setattr(collate_mod, "_POOL", None)
    monkeypatch.setattr(collate_mod, "_RECEIVED", {})

    def batch_of(value: float) -> dict:
        sent = collate_samples([{"x": torch.full((3, 8), value), "task": "t"} for _ in range(2)])
        data = ForkingPickler.dumps(sent)
        reductions.shared_cache.clear()  # else this process would get the pool's own storage back, not a mapping
        return pickle.loads(data)

    first = batch_of(1.0)
    view = first["x"][0]  # a view keeps the slab in use as well
    del first
    second = batch_of(2.0)  # slab 0 still viewed: a second slab
    pool = collate_mod._pool()
    assert pool.busy[:2] == [True, True]
    third = batch_of(3.0)
    assert torch.equal(view, torch.full((3, 8), 1.0))  # never overwritten while viewed
    assert pool.busy[:3] == [True, True, True]
    assert pool.released[:3].tolist() == [0, 0, 0]  # the batch in slab 0 is gone, but not every view of it
    del view
    assert pool.released[:3].tolist() == [1, 0, 0]  # flagged the moment its last view was dropped
    del second
    assert pool.released[:3].tolist() == [1, 1, 0]
    batch_of(4.0)  # reuses slab 0 or 1: no fourth slab
    assert pool.slabs[3] is None and pool.busy[:3].count(True) == 2
    batch_of(5.0)
    batch_of(6.0)
    assert pool.slabs[4] is None  # released slabs were reused: no fifth one
    assert torch.equal(third["x"], torch.full((2, 3, 8), 3.0))


def test_float_frames_through_workers_equal_default_collate(root):
    ds = LeRobotDataset("x", root=root, delta_timestamps=DELTAS)  # float frames: decoded, then scaled in place
    loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2, collate_fn=collate_samples)
    for b, batch in enumerate(loader):
        assert_same_batch(
            batch, torch.utils.data.default_collate([ds[i] for i in range(4 * b, min(4 * b + 4, len(ds)))])
        )


def as_worker(monkeypatch):
    """This process plays a DataLoader worker in which collate_samples has already run once."""
    monkeypatch.setattr(collate_mod, "get_worker_info", lambda: object())
    monkeypatch.setattr(collate_mod, "_POOL", None)
    monkeypatch.setattr(collate_mod, "_POOLED_COLLATE_PID", None)
    collate_samples([{"x": torch.zeros(1)}, {"x": torch.ones(1)}])
    collate_mod._pool().release(0)


def test_frames_are_decoded_into_the_batch_and_collate_does_not_copy_them(root, monkeypatch):
    ds = LeRobotDataset("x", root=root, delta_timestamps=DELTAS, return_uint8=True)
    indices = [5, 0, 30, 17]
    want = torch.utils.data.default_collate([ds[i] for i in indices])
    monkeypatch.setattr(collate_mod, "_POOLED_COLLATE_PID", None)  # (earlier tests played workers too)
    assert type(ds.__getitems__(indices)) is list  # outside a worker that collates with collate_samples: plain
    as_worker(monkeypatch)
    samples = ds.__getitems__(indices)
    assert isinstance(samples, collate_mod._PrefilledSamples)
    slab = samples.slab.untyped_storage().data_ptr()
    for s in samples:  # every tensor of every sample already lives in the batch's slab
        assert all(v.untyped_storage().data_ptr() == slab for v in s.values() if isinstance(v, torch.Tensor))
    batch = collate_samples(samples)
    assert batch["observation.images.top"].data_ptr() == samples.views["observation.images.top"].data_ptr()
    assert_same_batch(pickle.loads(ForkingPickler.dumps(batch)), want)


def test_an_edited_or_ragged_batch_is_collated_the_ordinary_way(root, monkeypatch):
    ds = LeRobotDataset("x", root=root, delta_timestamps=DELTAS, return_uint8=True)
    as_worker(monkeypatch)
    samples = ds.__getitems__([1, 2, 3])
    samples[1] = ds[9]  # the caller replaced a sample: its values are not in the slab
    pool = collate_mod._pool()
    prefilled_slot = samples.slot
    batch = collate_samples(samples)
    assert batch._slot != prefilled_slot and not pool.busy[prefilled_slot]  # copied; the prefilled slab freed
    assert_same_batch(batch, torch.utils.data.default_collate([ds[1], ds[9], ds[3]]))

    def ragged(j, out):  # the third sample has a longer window than the first two
        return {"a": torch.full((2 + (j == 2),), float(j)), "s": str(j)}

    busy_before = list(pool.busy)
    plain = collate_mod.prefill_batch(ragged, 4)
    assert type(plain) is list and pool.busy == busy_before  # no slab left held
    assert [s["a"].tolist() for s in plain] == [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0, 2.0], [3.0, 3.0]]
    slab_views = [s["a"] for s in plain[:2]]
    plain_again = collate_mod.prefill_batch(lambda j, out: {"a": torch.full((2,), 7.0), "s": ""}, 4)
    assert [v.tolist() for v in slab_views] == [[0.0, 0.0], [1.0, 1.0]]  # the reused slab did not overwrite them
    assert isinstance(plain_again, collate_mod._PrefilledSamples)


def test_the_main_process_keeps_a_workers_slabs_only_while_it_runs(root):
    ds = LeRobotDataset("x", root=root, delta_timestamps=DELTAS, return_uint8=True)
    loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2, collate_fn=collate_samples)
    before = set(collate_mod._RECEIVED)
    it = iter(loader)
    batches = [next(it) for _ in range(4)]  # two per worker: each worker's pool is known here now
    pools = set(collate_mod._RECEIVED) - before
    worker_pids = {w.pid for w in it._workers}
    assert {collate_mod._RECEIVED[t].pid for t in pools} == worker_pids
    rest = list(it)  # the loader ends: its workers exit
    deadline = time.monotonic() + 10
    while pools & set(collate_mod._RECEIVED):
        assert time.monotonic() < deadline, "the exited workers' slabs are still mapped here"
        time.sleep(0.01)
    for b, batch in enumerate(batches + rest):  # batches still held keep their memory and values
        want = torch.utils.data.default_collate([ds[i] for i in range(4 * b, min(4 * b + 4, len(ds)))])
        assert_same_batch(batch, want)
