"""Default collate batches LeRobotDataset samples, with and without worker processes."""

import numpy as np
import pytest
import torch

from robotlearn.datasets import LeRobotDataset
from robotlearn.datasets.synthetic import expected_level, expected_state, write_synthetic_dataset

DELTAS = {"observation.images.top": [-0.1, 0.0], "observation.state": [-0.1, 0.0], "action": [0.0, 0.1, 0.2, 0.3]}


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("dl") / "ds"
    write_synthetic_dataset(root, num_episodes=4, episode_length=12, cameras={"top": (16, 16), "side": (16, 16)})
    return root


def check_batch(batch):
    b = batch["observation.state"].shape[0]
    assert batch["observation.images.top"].shape == (b, 2, 3, 16, 16)
    assert batch["observation.images.side"].shape == (b, 3, 16, 16)
    assert batch["action"].shape == (b, 4, 2) and batch["action_is_pad"].shape == (b, 4)
    assert len(batch["task"]) == b
    for j in range(b):
        e, f = int(batch["episode_index"][j]), int(batch["frame_index"][j])
        np.testing.assert_array_equal(batch["observation.state"][j, 1].numpy(), expected_state(e, f, 2))
        assert abs(float(batch["observation.images.top"][j, 1, 0, 0, 0]) * 255 - expected_level(e, f)) <= 2
        assert batch["action_is_pad"][j].tolist() == [f + k >= 12 for k in range(4)]


@pytest.mark.parametrize("num_workers", [0, 2])
def test_dataloader_batches_every_frame_once(root, num_workers):
    ds = LeRobotDataset("x", root=root, delta_timestamps=DELTAS)
    loader = torch.utils.data.DataLoader(
        ds, batch_size=5, shuffle=True, num_workers=num_workers, generator=torch.Generator().manual_seed(0)
    )
    seen = []
    for batch in loader:
        check_batch(batch)
        seen += batch["index"].tolist()
    assert sorted(seen) == list(range(len(ds)))


def test_workers_after_the_parent_has_decoded(root):
    # The reference's decoder cache breaks here: forked workers inherit the parent's open decoders.
    ds = LeRobotDataset("x", root=root, delta_timestamps=DELTAS)
    for i in (0, 7, 30, 47):
        ds[i]
    loader = torch.utils.data.DataLoader(ds, batch_size=8, num_workers=2, multiprocessing_context="fork")
    n = 0
    for batch in loader:
        check_batch(batch)
        n += len(batch["index"])
    assert n == len(ds)
    check_batch(torch.utils.data.default_collate([ds[5], ds[40]]))  # and the parent still reads correctly


def test_camera_keys_limits_the_cameras_read(root):
    full = LeRobotDataset("t/dl", root=root, delta_timestamps=DELTAS)
    one = LeRobotDataset("t/dl", root=root, delta_timestamps=DELTAS, camera_keys=["observation.images.side"])
    none = LeRobotDataset("t/dl", root=root, delta_timestamps=DELTAS, camera_keys=[])
    a, b, c = full[13], one[13], none[13]
    assert "observation.images.top" not in b and "observation.images.top_is_pad" not in b
    assert torch.equal(a["observation.images.side"], b["observation.images.side"])
    assert not any(k.startswith("observation.images.") for k in c)
    for key in ("observation.state", "action", "action_is_pad", "frame_index"):
        assert torch.equal(a[key], c[key])
    with pytest.raises(ValueError, match="observation.images.front"):
        LeRobotDataset("t/dl", root=root, camera_keys=["observation.images.front"])
