"""`robotlearn record --policy.path=...`: a saved policy drives the simulated robot (real subprocess)."""

import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("gym_pusht")

from robotlearn.datasets import LeRobotDataset

PUSHT = [
    "--robot.type=sim_pusht",
    "--robot.seed=0",
    "--teleop.type=scripted_pusht",
    "--dataset.episode_time_s=5",
    "--dataset.reset_time_s=0",
    "--dataset.fps=10",
    "--dataset.single_task=push the T",
    "--dataset.realtime=false",
    "--play_sounds=false",
]


def robotlearn(*args, timeout=120):
    proc = subprocess.run(
        [sys.executable, "-m", "robotlearn.scripts.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise AssertionError(f"robotlearn {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_record_with_a_saved_policy_stores_the_policys_actions(tmp_path):
    """--policy.path: a (tiny, untrained) ACT drives the sim; re-running it on the stored (lossless)
    observations gives the stored actions."""
    import torch

    from robotlearn.policies import make_policy, make_policy_from_pretrained
    from robotlearn.policies.observation import observation_to_batch as observation_to_policy_batch

    demo = tmp_path / "demo"
    robotlearn("record", *PUSHT, f"--dataset.root={demo}", "--dataset.num_episodes=1", "--dataset.video=false")
    meta = LeRobotDataset("local/recording", root=demo).meta
    torch.manual_seed(0)
    policy = make_policy(
        "act",
        meta,
        dim_model=32,
        n_heads=2,
        dim_feedforward=64,
        n_encoder_layers=1,
        n_vae_encoder_layers=1,
        latent_dim=4,
        chunk_size=4,
        n_action_steps=2,
        input_features=["observation.state", "observation.images.top"],
    )
    policy.save_pretrained(tmp_path / "policy")

    out = tmp_path / "rollout"
    robotlearn(
        "record",
        "--robot.type=sim_pusht",
        "--robot.seed=5",
        f"--policy.path={tmp_path / 'policy'}",
        f"--dataset.root={out}",
        "--dataset.num_episodes=1",
        "--dataset.episode_time_s=1",
        "--dataset.fps=10",
        "--dataset.reset_time_s=0",
        "--dataset.video=false",
        "--dataset.single_task=push the T",
        "--dataset.realtime=false",
        "--play_sounds=false",
    )
    ds = LeRobotDataset("local/recording", root=out)
    assert len(ds) == 10
    policy = make_policy_from_pretrained(tmp_path / "policy")
    policy.reset()
    for i in range(10):
        item = ds[i]
        obs = {
            "observation.state": item["observation.state"].numpy(),
            "observation.images.top": (item["observation.images.top"].permute(1, 2, 0) * 255).round().byte().numpy(),
        }
        with torch.inference_mode():
            expected = policy.select_action(observation_to_policy_batch(obs)).numpy().reshape(-1)
        np.testing.assert_allclose(item["action"].numpy(), np.clip(expected, 0, 512).astype(np.float32), atol=1e-3)
