"""The seed's Code 1 (batching a dataset, map-style and streaming) runs with only its imports changed.

The hub is unreachable here, so the dataset is recorded beforehand into the default local root
($ROBOTLEARN_HOME/datasets/<repo_id>), which both readers use before ever going to the network.
"""

import os

import numpy as np
import torch

from robotlearn.datasets.synthetic import expected_level, write_synthetic_dataset


def test_seed_code1_runs_with_only_imports_changed(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("ROBOTLEARN_HOME", str(home))
    write_synthetic_dataset(
        home / "datasets/lerobot/svla_so101_pickplace",
        num_episodes=3,
        episode_length=30,
        fps=10,
        state_dim=6,
        cameras={"wrist_camera": (32, 32)},
    )

    # ---- Code 1, verbatim except the imports (and a smaller batch loop) ----
    from robotlearn.datasets import LeRobotDataset, StreamingLeRobotDataset

    delta_timestamps = {
        "observation.images.wrist_camera": [-0.2, -0.1, 0.0]  # 0.2, and 0.1 seconds *before* each frame
    }
    # Optionally, use StreamingLeRobotDataset to avoid downloading the dataset
    dataset = LeRobotDataset("lerobot/svla_so101_pickplace", delta_timestamps=delta_timestamps)
    # Streams frames from the Hugging Face Hub without loading into memory
    streaming_dataset = StreamingLeRobotDataset("lerobot/svla_so101_pickplace", delta_timestamps=delta_timestamps)
    # Get the 100th frame in the dataset by
    sample = dataset[50]
    batch_size = 16
    data_loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size)
    num_epochs = 1
    device = "cuda" if torch.cuda.is_available() else "cpu"
    seen = 0
    for epoch in range(num_epochs):
        for batch in data_loader:
            observations = batch["observation.state"].to(device)
            actions = batch["action"].to(device)
            images = batch["observation.images.wrist_camera"].to(device)
            seen += len(actions)
    # ---- end of Code 1 ----

    assert seen == len(dataset) == 90
    assert sample["observation.images.wrist_camera"].shape == (3, 3, 32, 32)
    assert sample["observation.images.wrist_camera_is_pad"].tolist() == [False, False, False]
    assert abs(float(sample["observation.images.wrist_camera"][2, 0, 0, 0]) * 255 - expected_level(1, 20)) <= 2
    assert images.shape[1:] == (3, 3, 32, 32) and observations.shape[1:] == (6,)
    streamed = {int(s["index"]): s for s in streaming_dataset}
    assert sorted(streamed) == list(range(90))
    np.testing.assert_array_equal(
        streamed[50]["observation.images.wrist_camera"].numpy(), sample["observation.images.wrist_camera"].numpy()
    )
    assert not (home / "hub").exists() and os.environ["HF_HUB_OFFLINE"] == "1"
