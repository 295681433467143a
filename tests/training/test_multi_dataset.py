"""Training on several datasets at once: weighted sampling, padding of different widths, the CLI run."""

import subprocess
import sys
from collections import Counter

import numpy as np
import pytest
import torch

from robotlearn.datasets import LeRobotDataset, LeRobotDatasetMetadata
from robotlearn.datasets.multi import MultiDatasetMetadata, MultiLeRobotDataset
from robotlearn.datasets.synthetic import write_synthetic_dataset
from robotlearn.errors import ConfigError
from robotlearn.training import TrainConfig, train
from robotlearn.training.distributed import Distributed
from robotlearn.training.sampler import WeightedResumableSampler
from robotlearn.training.train import DatasetConfig, _make_loader


def take(it, n):
    return [next(it) for _ in range(n)]


@pytest.fixture(scope="module")
def two_robots(tmp_path_factory):
    """Two state-only datasets: a 2-d robot (3 episodes of 10 frames, tasks A/B) and a 4-d one
    (2 episodes of 15 frames, task C)."""
    base = tmp_path_factory.mktemp("multi")
    write_synthetic_dataset(base / "narrow", 3, 10, state_dim=2, cameras={}, tasks=("task A", "task B"))
    write_synthetic_dataset(base / "wide", 2, 15, state_dim=4, cameras={}, tasks=("task C",))
    return base / "narrow", base / "wide"


def open_multi(roots, delta_timestamps=None):
    metas = [LeRobotDatasetMetadata(f"local/{r.name}", root=r) for r in roots]
    meta = MultiDatasetMetadata(metas)
    datasets = [LeRobotDataset(m.repo_id, root=m.root, delta_timestamps=delta_timestamps) for m in metas]
    return meta, MultiLeRobotDataset(datasets, meta)


def test_weighted_sampler_draws_each_dataset_at_its_weight_and_resumes_mid_stream():
    sizes, weights = [50, 200, 30], [0.7, 0.2, 0.1]
    draws = torch.tensor(take(iter(WeightedResumableSampler(sizes, weights, seed=3)), 30_000))
    which = torch.bucketize(draws, torch.tensor([50, 250]), right=True)  # global index -> dataset
    freq = torch.bincount(which, minlength=3).double() / len(draws)
    # binomial standard deviation at 30k draws is <= 0.003; 0.012 is 4 of them
    assert torch.allclose(freq, torch.tensor(weights, dtype=torch.float64), atol=0.012), freq
    assert draws.min() >= 0 and draws.max() < 280
    # frames are drawn uniformly inside a dataset: dataset 0's 50 frames all appear, about equally often
    counts = torch.bincount(draws[which == 0], minlength=50)
    assert (counts > 0).all() and counts.max() < 3 * counts.float().mean()
    resumed = take(iter(WeightedResumableSampler(sizes, weights, seed=3, start=1234)), 500)
    assert resumed == draws[1234:1734].tolist()  # a resumed run sees exactly the positions it would have


def test_narrow_features_are_zero_padded_with_masks_and_stats_pooled_per_dimension(two_robots):
    narrow, wide = two_robots
    meta, ds = open_multi(two_robots, {"action": [0.0, 0.1]})
    assert meta.padded_keys == ["observation.state", "action"]
    assert meta.features["action"]["shape"] == [4] and meta.tasks == ["task A", "task B", "task C"]
    assert len(ds) == 30 + 30 and ds.sizes == [30, 30]

    first = ds[0]  # episode 0 frame 0 of the 2-d robot
    np.testing.assert_allclose(first["observation.state"].numpy(), [0.0, 0.1, 0.0, 0.0], atol=1e-6)
    assert first["action"].shape == (2, 4) and first["action"][:, 2:].abs().sum() == 0
    assert first["action_dim_mask"].tolist() == [True, True, False, False]
    assert first["observation.state_dim_mask"].tolist() == [True, True, False, False]
    assert first["dataset_index"] == 0 and first["task"] == "task A"

    last = ds[59]  # episode 1 frame 14 of the 4-d robot
    np.testing.assert_allclose(last["observation.state"].numpy(), [1.014, 1.114, 1.214, 1.314], atol=1e-5)
    assert last["action_dim_mask"].all() and last["dataset_index"] == 1 and last["task"] == "task C"
    assert last["index"] == 59  # unique across datasets (the per-sample random draws depend on it)

    # dims 0-1: pooled over both robots' 60 frames; dims 2-3: the wide robot's own statistics
    states = np.stack([ds[i]["observation.state"].numpy()[:2] for i in range(60)])  # (60, 2)
    wide_stats = LeRobotDatasetMetadata("local/wide", root=wide).stats["observation.state"]
    np.testing.assert_allclose(meta.stats["observation.state"]["mean"][:2], states.mean(0), atol=1e-5)
    np.testing.assert_allclose(meta.stats["observation.state"]["std"][:2], states.std(0), atol=1e-4)
    np.testing.assert_allclose(meta.stats["observation.state"]["mean"][2:], wide_stats["mean"][2:], atol=1e-6)
    np.testing.assert_allclose(meta.stats["observation.state"]["max"][2:], wide_stats["max"][2:], atol=1e-6)


def test_training_loader_draws_datasets_at_the_given_weights(two_robots):
    _, ds = open_multi(two_robots)
    args = TrainConfig(dataset=DatasetConfig(roots=[str(r) for r in two_robots], weights=[0.8, 0.2]))
    args.batch_size, args.num_workers, args.seed = 20, 0, 5
    loader = iter(_make_loader(ds, args, Distributed(device=torch.device("cpu")), samples_seen=0))
    counts = Counter()
    for _ in range(150):  # 3000 samples; the datasets hold 30 frames each, so unweighted would be 50/50
        counts.update(next(loader)["dataset_index"].tolist())
    assert counts[0] / 3000 == pytest.approx(0.8, abs=0.03)  # 4 binomial standard deviations


def test_mixed_widths_need_a_policy_that_masks_the_padding(two_robots, tmp_path):
    args = TrainConfig(dataset=DatasetConfig(roots=[str(r) for r in two_robots]), output_dir=str(tmp_path / "o"))
    with pytest.raises(ConfigError, match="widths differ.*vla"):
        train(args)
    with pytest.raises(ConfigError, match="weights has 1 values for 2"):
        DatasetConfig(roots=["a", "b"], weights=[1.0])


def test_cli_trains_one_vla_on_two_robots_with_weights(two_robots, tmp_path):
    out = tmp_path / "run"
    tiny = "dim_model=32 n_heads=2 n_backbone_layers=2 ff_mult=2 chunk_size=4 n_action_steps=4 max_state_dim=8"
    cmd = [sys.executable, "-m", "robotlearn.scripts.cli", "train", "--policy.type=vla"]
    cmd += [f"--policy.{kv}" for kv in (tiny + " max_action_dim=4 vocab_size=64").split()]
    cmd += [f"--dataset.roots={two_robots[0]},{two_robots[1]}", "--dataset.weights=0.7,0.3", "--steps=3"]
    cmd += ["--batch_size=8", "--num_workers=0", "--device=cpu", "--num_threads=1", "--log_freq=1"]
    cmd += ["--progress=false", f"--output_dir={out}"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "60 frames in 5 episodes of 2 datasets" in run.stdout and "step 3/3" in run.stdout

    from robotlearn.policies import make_policy_from_pretrained

    policy = make_policy_from_pretrained(out)
    assert policy.config.features["action"]["shape"] == [4]
    assert policy.tokenizer.encode("task C") != policy.tokenizer.encode("task D")  # C was in the vocabulary
    obs = {"observation.state": torch.zeros(1, 4), "task": "task A"}
    assert policy.predict_action_chunk(obs).shape == (1, 4, 4)
