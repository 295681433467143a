"""robotlearn reads what the reference lerobot 0.6.1 wrote, sample for sample (tests/fixtures/lerobot-0.6.1)."""

import json

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file
from tests.conftest import FIXTURES

from robotlearn.datasets import LeRobotDataset

NAMES = ["pusht", "images", "rollover"]


def load_expected(name):
    query = json.loads((FIXTURES / f"{name}.expected.json").read_text())
    tensors = load_file(str(FIXTURES / f"{name}.expected.safetensors"))
    return query, tensors


@pytest.mark.parametrize("name", NAMES)
def test_samples_match_the_reference(name):
    query, expected = load_expected(name)
    ds = LeRobotDataset(
        "anchor/x", root=FIXTURES / name, delta_timestamps=query["delta_timestamps"], return_uint8=query["return_uint8"]
    )
    assert len(ds) == query["len"]
    for i in query["indices"]:
        item = ds[i]
        keys = {k.split("/", 1)[1] for k in expected if k.split("/", 1)[0] == str(i)}
        assert keys == {k for k, v in item.items() if isinstance(v, torch.Tensor)}, f"index {i}"
        for key in keys:
            want = expected[f"{i}/{key}"]
            got = item[key].numpy()
            assert got.shape == want.shape and got.dtype == want.dtype, (
                f"{name}[{i}] {key}: {got.shape} {got.dtype} vs {want.shape} {want.dtype}"
            )
            if key in ds.meta.camera_keys:
                scale = 255.0 if got.dtype != np.uint8 else 1.0
                diff = np.abs(got.astype(np.float64) * scale - want.astype(np.float64) * scale).max()
                assert diff <= 2.0, f"{name}[{i}] {key}: frames differ by {diff} levels"
            else:
                np.testing.assert_array_equal(got, want, err_msg=f"{name}[{i}] {key}")
        assert item["task"] == query["tasks"][str(i)]


@pytest.mark.parametrize("name", NAMES)
def test_metadata_matches_info_json(name):
    info = json.loads((FIXTURES / name / "meta" / "info.json").read_text())
    ds = LeRobotDataset("anchor/x", root=FIXTURES / name)
    assert ds.meta.fps == info["fps"]
    assert ds.meta.total_episodes == info["total_episodes"]
    assert ds.meta.total_frames == info["total_frames"] == len(ds)
    assert len(ds.meta.tasks) == info["total_tasks"]
    assert set(ds.meta.camera_keys) == {k for k, f in info["features"].items() if f["dtype"] in ("video", "image")}
    for feat, stats in ds.meta.stats.items():
        assert {"mean", "std", "min", "max", "count"} <= set(stats)


def test_episode_subset_exposes_only_those_frames():
    ds = LeRobotDataset("anchor/x", root=FIXTURES / "images", episodes=[2])
    ep = ds.meta.episodes[2]
    assert len(ds) == ep["length"]
    assert int(ds[0]["index"]) == ep["dataset_from_index"]
    assert {int(ds[i]["episode_index"]) for i in range(len(ds))} == {2}
