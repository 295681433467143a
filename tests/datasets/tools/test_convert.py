"""v2.1 -> v3.0: the datasets written by lerobot 0.3.3 convert, and robotlearn then returns the samples 0.3.3
returned; a v2.1 dataset opened without converting gives one line naming the convert command."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from tests.datasets.tools.helpers import tree_digest

from robotlearn.datasets import LeRobotDataset
from robotlearn.datasets.errors import DatasetFormatError
from robotlearn.datasets.tools import validate
from robotlearn.datasets.tools.convert import convert_v21

V21 = Path(__file__).resolve().parents[2] / "fixtures" / "lerobot-0.3.3"


@pytest.mark.parametrize("name", ["v21_video", "v21_images"])
def test_converted_dataset_returns_what_lerobot_0_3_3_returned(name, tmp_path):
    src = V21 / name
    before = tree_digest(src)
    convert_v21(src, tmp_path / name)
    assert tree_digest(src) == before
    out = tmp_path / name
    report = validate(out, deep=True)
    assert report.ok, report.lines()
    query = json.loads((V21 / f"{name}.expected.json").read_text())
    expected = load_file(str(V21 / f"{name}.expected.safetensors"))
    ds = LeRobotDataset("anchor/x", root=out, delta_timestamps=query["delta_timestamps"])
    assert len(ds) == query["len"]
    cams = set(ds.meta.camera_keys)
    for i in query["indices"]:
        item = ds[i]
        assert item["task"] == query["tasks"][str(i)]
        keys = [k.split("/", 1)[1] for k in expected if k.split("/", 1)[0] == str(i)]
        assert keys
        for key in keys:
            want, got = expected[f"{i}/{key}"], item[key]
            if key in cams:
                assert got.shape == want.shape, (i, key)
                assert torch.equal((got * 255).round(), (want * 255).round()), (i, key)
            else:
                assert torch.equal(got.reshape(want.shape).to(want.dtype), want), (i, key, got, want)
    info = json.loads((out / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and "total_chunks" not in info


def test_video_offsets_match_the_reference_converter(tmp_path):
    convert_v21(V21 / "v21_video", tmp_path / "out")
    ds = LeRobotDataset("anchor/x", root=tmp_path / "out")
    starts = ds.meta.episode_columns["videos/observation.image/from_timestamp"]
    np.testing.assert_allclose(starts, [0.0, 4.0, 7.3, 12.3])  # FORMAT: 0, 4.0, 7.3, 12.3 -> 16.4 s


def test_opening_v21_without_converting_is_one_line_naming_the_command():
    with pytest.raises(DatasetFormatError, match="robotlearn dataset convert --root="):
        LeRobotDataset("anchor/x", root=V21 / "v21_video")
    proc = subprocess.run(
        [sys.executable, "-m", "robotlearn.scripts.cli", "dataset-info", f"--root={V21 / 'v21_video'}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2 and len(lines) == 1 and "robotlearn dataset convert" in lines[0], proc.stderr


def test_convert_refuses_a_v3_dataset(tmp_path):
    from tests.conftest import FIXTURES

    with pytest.raises(DatasetFormatError, match="already v3"):
        convert_v21(FIXTURES / "pusht", tmp_path / "out")
    assert not (tmp_path / "out").exists()
