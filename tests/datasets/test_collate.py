"""`collate_samples` gives default_collate's batches, and reuses a worker's shared memory only once released."""

import pickle
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
    del view, second
    batch_of(4.0)  # a fourth slab; on receiving it, the main side flags slabs 0 and 1 as released
    assert pool.released[:2].tolist() == [1, 1] and pool.released[2] == 0
    batch_of(5.0)
    batch_of(6.0)
    assert pool.slabs[4] is None  # released slabs were reused: no fifth one
    assert torch.equal(third["x"], torch.full((2, 3, 8), 3.0))
