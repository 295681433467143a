"""The reward classifier learns success from a dataset's next.success labels (split by episode),
reports held-out accuracy, and reloads from its folder to give the same rewards."""

import json

import numpy as np
import pytest
import torch

from robotlearn.datasets import LeRobotDataset
from robotlearn.errors import ConfigError
from robotlearn.rl.reward_classifier import (
    RewardClassifier,
    RewardClassifierConfig,
    TrainRewardClassifierConfig,
    train_reward_classifier,
)

FEATURES = {
    "observation.images.top": {"dtype": "image", "shape": (24, 24, 3), "names": ["height", "width", "channels"]},
    "action": {"dtype": "float32", "shape": (2,), "names": ["x", "y"]},
    "next.success": {"dtype": "bool", "shape": (1,), "names": None},
}


def record(root, episodes=10, length=20):
    """Success from frame 12 on (next.success from frame 11 on): a bright block appears at a random place (position varies, so the
    classifier must look for the block, not a pixel)."""
    rng = np.random.default_rng(0)
    ds = LeRobotDataset.create("local/success", fps=10, features=FEATURES, root=root, use_videos=False)
    for _ in range(episodes):
        for t in range(length):
            image = rng.integers(0, 90, (24, 24, 3), dtype=np.uint8)
            if t >= 12:
                y, x = rng.integers(0, 16, 2)
                image[y : y + 8, x : x + 8] = 230
            ds.add_frame(
                {
                    "observation.images.top": image,
                    "action": np.zeros(2, np.float32),
                    # as a recorder stores it: the success reported after this frame's action, i.e. the
                    # next frame's picture
                    "next.success": np.array([t + 1 >= 12]),
                    "task": "t",
                }
            )
        ds.save_episode()
    ds.finalize()


def test_classifier_reaches_high_held_out_accuracy_and_reloads(tmp_path):
    record(tmp_path / "ds")
    cfg = TrainRewardClassifierConfig(
        dataset_root=str(tmp_path / "ds"),
        output_dir=str(tmp_path / "rc"),
        steps=150,
        batch_size=32,
        classifier=RewardClassifierConfig(channels=[8, 8, 16, 16], hidden=16),
    )
    model, metrics = train_reward_classifier(cfg)
    held = metrics["held_out"]
    # each episode's first frame has no label (no earlier frame reported on it): 2 x 19 frames
    assert len(metrics["held_out_episodes"]) == 2 and held["frames"] == 38 and held["successes"] == 16
    assert held["accuracy"] >= 0.9, held
    assert json.loads((tmp_path / "rc" / "metrics.json").read_text())["held_out"] == held
    reloaded = RewardClassifier.from_pretrained(tmp_path / "rc")
    frames = {"observation.images.top": torch.randint(0, 255, (5, 3, 24, 24), dtype=torch.uint8)}
    assert torch.equal(reloaded.reward(frames), model.reward(frames))


def test_each_picture_is_labelled_by_the_report_of_the_step_that_led_to_it(tmp_path):
    from robotlearn.rl.reward_classifier import load_labelled_frames

    record(tmp_path / "ds", episodes=2)
    images, labels, episodes = load_labelled_frames(tmp_path / "ds", ["observation.images.top"])
    shows_block = (images["observation.images.top"] >= 200).any(axis=(1, 2, 3))
    assert len(labels) == 38 and np.array_equal(labels, shows_block)
    assert np.array_equal(episodes, np.repeat([0, 1], 19))


def test_a_dataset_without_success_labels_is_refused_with_the_fix(tmp_path):
    ds = LeRobotDataset.create(
        "local/x",
        fps=10,
        features={k: v for k, v in FEATURES.items() if k != "next.success"},
        root=tmp_path / "ds",
        use_videos=False,
    )
    ds.add_frame(
        {"observation.images.top": np.zeros((24, 24, 3), np.uint8), "action": np.zeros(2, np.float32), "task": "t"}
    )
    ds.save_episode()
    ds.finalize()
    with pytest.raises(ConfigError, match="--dataset.rewards=true"):
        train_reward_classifier(TrainRewardClassifierConfig(dataset_root=str(tmp_path / "ds")))
