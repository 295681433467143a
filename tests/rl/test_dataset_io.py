"""A LeRobotDataset loads into the replay buffer in bulk: rewards, termination and interventions
from its columns, next observations from the following frame, camera frames as uint8."""

import numpy as np
import torch

from robotlearn.datasets import LeRobotDataset
from robotlearn.rl.buffer import ReplayBuffer
from robotlearn.rl.dataset_io import load_dataset

FEATURES = {
    "observation.state": {"dtype": "float32", "shape": (2,), "names": ["x", "y"]},
    "observation.images.top": {"dtype": "image", "shape": (8, 8, 3), "names": ["height", "width", "channels"]},
    "action": {"dtype": "float32", "shape": (2,), "names": ["x", "y"]},
    "next.reward": {"dtype": "float32", "shape": (1,), "names": None},
    "next.done": {"dtype": "bool", "shape": (1,), "names": None},
    "intervention": {"dtype": "bool", "shape": (1,), "names": None},
}


def record(root, episodes):
    ds = LeRobotDataset.create("local/rl", fps=10, features=FEATURES, root=root, use_videos=False)
    for e, (length, terminated) in enumerate(episodes):
        for t in range(length):
            ds.add_frame(
                {
                    "observation.state": np.array([e, t], np.float32),
                    "observation.images.top": np.full((8, 8, 3), 10 * e + t, np.uint8),
                    "action": np.array([e, -t], np.float32),
                    "next.reward": np.array([float(t == length - 1)], np.float32),
                    "next.done": np.array([terminated and t == length - 1]),
                    "intervention": np.array([t % 2 == 1]),
                    "task": "push",
                }
            )
        ds.save_episode()
    ds.finalize()


def test_episodes_load_as_transitions_with_their_rewards_done_and_interventions(tmp_path):
    record(tmp_path / "ds", [(5, True), (4, False)])
    buffer = ReplayBuffer(
        {
            "observation.state": {"shape": [2], "dtype": "float32"},
            "observation.images.top": {"shape": [3, 8, 8], "dtype": "image"},
        },
        action_dim=2,
        capacity=64,
    )
    assert load_dataset(buffer, tmp_path / "ds") == 5 + 3  # the truncated episode's last frame has no s'
    assert buffer.frames_written == 6 + 4
    batch = buffer.sample(500, torch.Generator().manual_seed(0))
    state, image = batch["observation.state"], batch["observation.images.top"]
    e, t = state[:, 0, 0], state[:, 0, 1]
    torch.testing.assert_close(state[:, 1, 1][~batch["next.done"]], t[~batch["next.done"]] + 1)  # s' = next frame
    assert image.dtype == torch.uint8
    assert torch.equal(image[:, 0, 0, 0, 0].float(), 10 * e + t)
    assert set(zip(e[batch["next.done"]].tolist(), t[batch["next.done"]].tolist())) == {(0.0, 4.0)}
    torch.testing.assert_close(batch["next.reward"], ((e == 0) & (t == 4)).float())
    assert torch.equal(batch["intervention"], t % 2 == 1)
    torch.testing.assert_close(batch["action"][:, 1], -t)


def test_demos_can_be_rewarded_by_their_success_column_instead_of_their_recorded_reward(tmp_path):
    import pytest

    from robotlearn.errors import ConfigError

    features = {**FEATURES, "next.success": {"dtype": "bool", "shape": (1,), "names": None}}
    ds = LeRobotDataset.create("local/rl", fps=10, features=features, root=tmp_path / "ds", use_videos=False)
    for t in range(4):  # dense recorded rewards 0.1, 0.2, ...; success from the third step on
        ds.add_frame(
            {
                "observation.state": np.array([0, t], np.float32),
                "observation.images.top": np.zeros((8, 8, 3), np.uint8),
                "action": np.zeros(2, np.float32),
                "next.reward": np.array([0.1 * (t + 1)], np.float32),
                "next.done": np.array([t == 3]),
                "intervention": np.array([False]),
                "next.success": np.array([t >= 2]),
                "task": "push",
            }
        )
    ds.save_episode()
    ds.finalize()
    state = {"observation.state": {"shape": [2], "dtype": "float32"}}
    recorded, sparse = ReplayBuffer(state, 2, 16), ReplayBuffer(state, 2, 16)
    load_dataset(recorded, tmp_path / "ds")
    load_dataset(sparse, tmp_path / "ds", reward="success")
    torch.testing.assert_close(recorded.reward[recorded.valid], torch.tensor([0.1, 0.2, 0.3, 0.4]))
    assert sparse.reward[sparse.valid].tolist() == [0.0, 0.0, 1.0, 1.0]
    record(tmp_path / "no_success", [(3, True)])
    with pytest.raises(ConfigError, match="next.success"):
        load_dataset(ReplayBuffer(state, 2, 16), tmp_path / "no_success", reward="success")
