"""`relative_actions`: policies learn action - current state and add the state back at inference."""

import numpy as np
import pytest
import torch

from robotlearn.datasets import LeRobotDataset, LeRobotDatasetMetadata
from robotlearn.policies import make_policy
from robotlearn.policies.normalize import relative_action_stats

FEATURES = {
    "observation.state": {"dtype": "float32", "shape": (2,), "names": ["x", "y"]},
    "action": {"dtype": "float32", "shape": (2,), "names": ["x", "y"]},
}


def make_dataset(root):
    """Two episodes: state (10 t, 0) and action (10 t + 5, 1) at frame t; 3 then 2 frames."""
    ds = LeRobotDataset.create("local/rel", fps=10, root=root, features=FEATURES, use_videos=False)
    for n in (3, 2):
        for t in range(n):
            ds.add_frame(
                {
                    "observation.state": np.array([10.0 * t, 0.0], np.float32),
                    "action": np.array([10.0 * t + 5, 1.0], np.float32),
                    "task": "t",
                }
            )
        ds.save_episode()
    ds.finalize()
    return LeRobotDatasetMetadata("local/rel", root=root)


def test_relative_action_stats_are_those_of_the_action_window_minus_the_current_state(tmp_path):
    meta = make_dataset(tmp_path / "ds")
    stats = relative_action_stats(meta.root, offsets=[0, 1])
    # offset 0: x deltas 5 at every frame; offset 1: 15, except at each episode's last frame (edge repeated): 5
    x = np.array([5, 5, 5, 5, 5] + [15, 15, 5] + [15, 5], float)
    np.testing.assert_allclose(stats["min"], [5, 1])
    np.testing.assert_allclose(stats["max"], [15, 1])
    np.testing.assert_allclose(stats["mean"], [x.mean(), 1], rtol=1e-6)
    np.testing.assert_allclose(stats["std"], [x.std(), 0], atol=1e-6)


@pytest.mark.parametrize("policy_type", ["act", "diffusion"])
def test_relative_policy_trains_on_offsets_and_adds_the_state_back(tmp_path, policy_type):
    meta = make_dataset(tmp_path / "ds")
    sizes = (
        {
            "dim_model": 16,
            "n_heads": 2,
            "dim_feedforward": 32,
            "n_encoder_layers": 1,
            "use_vae": False,
            "chunk_size": 2,
            "n_action_steps": 1,
        }
        if policy_type == "act"
        else {"down_dims": [8, 16], "n_groups": 4, "horizon": 4, "n_action_steps": 1}
    )
    policy = make_policy(policy_type, meta, relative_actions=True, **sizes)
    batch = {"observation.state": torch.tensor([[20.0, 0.0]]), "action": torch.tensor([[[25.0, 1.0], [30.0, 1.0]]])}
    prepared = policy.prepare_batch(batch)
    expected = policy.normalizer.normalize("action", torch.tensor([[[5.0, 1.0], [10.0, 1.0]]]))
    torch.testing.assert_close(prepared["action"], expected)  # the target is the offset from the state
    # A model that outputs the normalized offset 0 plans actions at the state + the offset that 0 stands for.
    zero = policy.normalizer.unnormalize("action", torch.zeros(1, 1, 2))
    obs = policy.prepare_batch({"observation.state": torch.tensor([[100.0, 50.0]])})
    torch.testing.assert_close(
        policy.unnormalize_actions(torch.zeros(1, 3, 2), obs), (zero + torch.tensor([100.0, 50.0])).expand(1, 3, 2)
    )
