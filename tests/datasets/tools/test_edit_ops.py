"""remove-feature, rename-feature, edit-tasks, recompute-stats, reencode and images-to-video: each writes a
dataset that passes `validate --deep` and changes only what it was asked to."""

import json

import numpy as np
import pytest
from tests.conftest import FIXTURES
from tests.datasets.tools.helpers import assert_same_episode, episode_frames, episode_rows, make_dataset, tree_digest

from robotlearn.datasets import LeRobotDataset
from robotlearn.datasets.errors import DatasetError
from robotlearn.datasets.tools import validate
from robotlearn.datasets.tools.features import remove_feature, rename_feature
from robotlearn.datasets.tools.reencode import images_to_video, reencode
from robotlearn.datasets.tools.stats import recompute_stats
from robotlearn.datasets.tools.tasks import edit_tasks

TOP, SIDE = "observation.images.top", "observation.images.side"


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("ops") / "src", episodes=(6, 7, 5))


def info(root):
    return json.loads((root / "meta/info.json").read_text())


def checked(root):
    report = validate(root, deep=True)
    assert report.ok, report.lines()
    return root


def test_remove_feature_drops_a_camera_and_a_column(source, tmp_path):
    out = checked(tmp_path / "out") if remove_feature(source, [SIDE, "action"], tmp_path / "out") else None
    assert set(info(out)["features"]) == set(info(source)["features"]) - {SIDE, "action"}
    assert not (out / "videos" / SIDE).exists() and "action" not in episode_rows(out, 0).column_names
    assert "action" not in json.loads((out / "meta/stats.json").read_text())
    assert np.array_equal(episode_frames(out, TOP, 2), episode_frames(source, TOP, 2))
    with pytest.raises(DatasetError, match="did you mean"):
        remove_feature(source, "observation.images.tpo", tmp_path / "x")
    with pytest.raises(DatasetError, match="bookkeeping"):
        remove_feature(source, "timestamp", tmp_path / "x")


def test_rename_feature_moves_column_video_and_stats(source, tmp_path):
    rename_feature(source, {TOP: "observation.images.front", "action": "act"}, tmp_path / "out")
    out = checked(tmp_path / "out")
    assert "observation.images.front" in info(out)["features"] and (out / "videos/observation.images.front").is_dir()
    assert episode_rows(out, 1).column("act").equals(episode_rows(source, 1).column("action"))
    assert "act" in json.loads((out / "meta/stats.json").read_text())
    assert np.array_equal(episode_frames(out, "observation.images.front", 1), episode_frames(source, TOP, 1))
    with pytest.raises(DatasetError, match="already exists"):
        rename_feature(source, {"action": "observation.state"}, tmp_path / "x")


def test_edit_tasks_renames_and_sets(source, tmp_path):
    edit_tasks(source, rename={"task A": "pick the cube"}, set_task="place it", episodes="2", output=tmp_path / "out")
    ds = LeRobotDataset("t/t", root=checked(tmp_path / "out"))
    assert ds[0]["task"] == "pick the cube" and ds[6]["task"] == "task B" and ds[len(ds) - 1]["task"] == "place it"
    assert ds.meta.tasks == ["pick the cube", "task B", "place it"]  # "task C" was only used by episode 2
    assert_same_episode(source, 1, tmp_path / "out", 1)


def test_recompute_stats_reproduces_the_recorded_stats(source, tmp_path):
    recompute_stats(source, tmp_path / "out")
    a = json.loads((source / "meta/stats.json").read_text())
    b = json.loads((checked(tmp_path / "out") / "meta/stats.json").read_text())
    for feat in ("observation.state", "action", "index", "frame_index"):
        for name in a[feat]:
            np.testing.assert_allclose(b[feat][name], a[feat][name], rtol=1e-6, err_msg=f"{feat}/{name}")
    # h264 is lossy: decoded frames are within a few levels of what was recorded
    np.testing.assert_allclose(b[TOP]["mean"], a[TOP]["mean"], atol=3 / 255)


def test_reencode_changes_codec_and_resolution_only(source, tmp_path):
    before = tree_digest(source)
    reencode(source, tmp_path / "out", cameras=TOP, vcodec="h264", crf=18, g=4, width=24, height=12)
    out = checked(tmp_path / "out")
    ft = info(out)["features"][TOP]
    assert ft["shape"] == [12, 24, 3] and ft["info"]["video.width"] == 24 and ft["info"]["video.g"] == 4
    assert info(out)["features"][SIDE] == info(source)["features"][SIDE]
    assert np.array_equal(episode_frames(out, SIDE, 0), episode_frames(source, SIDE, 0))
    frames = episode_frames(out, TOP, 0)
    assert frames.shape == (6, 12, 24, 3)
    assert tree_digest(source) == before


def test_images_to_video_on_the_reference_image_dataset(tmp_path):
    images_to_video(FIXTURES / "images", tmp_path / "out", vcodec="h264", crf=10)
    out = checked(tmp_path / "out")
    feats = info(out)["features"]
    assert {k for k, f in feats.items() if f["dtype"] == "video"} == {
        "observation.images.top",
        "observation.images.wrist",
    }
    a = LeRobotDataset("t/t", root=FIXTURES / "images", return_uint8=True)
    b = LeRobotDataset("t/t", root=out, return_uint8=True)
    for i in (0, len(a) - 1):
        for key in ("observation.images.top", "observation.images.wrist"):
            png = (a[i][key] * 255).round().int()  # image features come back float in [0, 1], as the reference's
            diff = (png - b[i][key].int()).abs().float().mean()
            assert diff < 4, (i, key, diff)
        assert np.array_equal(a[i]["observation.state"], b[i]["observation.state"])
