"""Split, merge and delete copy rows and video packets: split then merge gives the original back (data and
frames bit-exact, stats within 1e-6), delete leaves every other episode identical, and no video is re-encoded."""

import json
import shutil

import numpy as np
import pytest
from tests.conftest import FIXTURES
from tests.datasets.tools.helpers import assert_same_episode, episode_frames, make_dataset, tree_digest

from robotlearn.datasets.errors import DatasetError
from robotlearn.datasets.tools import delete_episodes, merge_datasets, split_dataset, validate


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("edit") / "src")


def stats_close(a, b, rel=1e-6):
    sa, sb = json.loads((a / "meta/stats.json").read_text()), json.loads((b / "meta/stats.json").read_text())
    assert sa.keys() == sb.keys()
    for feat in sa:
        for name in sa[feat]:
            np.testing.assert_allclose(
                np.asarray(sb[feat][name], float),
                np.asarray(sa[feat][name], float),
                rtol=rel,
                atol=1e-12,
                err_msg=f"{feat}/{name}",
            )


@pytest.mark.parametrize("dataset", ["recorded", "reference rollover"])
def test_split_then_merge_gives_the_original_back(dataset, source, tmp_path):
    src = source if dataset == "recorded" else FIXTURES / "rollover"
    before = tree_digest(src)
    split_dataset(src, tmp_path / "parts", fractions={"a": 0.3, "b": 0.3, "c": 0.4})
    parts = [tmp_path / "parts" / n for n in "abc"]
    merge_datasets(parts, tmp_path / "merged")
    out = tmp_path / "merged"
    assert tree_digest(src) == before
    report = validate(out, deep=True)
    assert report.ok, report.lines()
    n = json.loads((src / "meta/info.json").read_text())["total_episodes"]
    for ep in range(n):
        assert_same_episode(src, ep, out, ep, renumbered=())
    if dataset == "recorded":  # the reference's stats.json holds envelope quantiles; ours are recomputed
        stats_close(src, out)
    info_a, info_b = (json.loads((p / "meta/info.json").read_text()) for p in (src, out))
    assert info_a["features"] == info_b["features"] and info_a["fps"] == info_b["fps"]


def test_delete_episodes_leaves_every_other_episode_identical(source, tmp_path):
    delete_episodes(source, "1,4", output=tmp_path / "out")
    out = tmp_path / "out"
    assert validate(out, deep=True).ok
    for new, old in enumerate([0, 2, 3, 5]):
        assert_same_episode(source, old, out, new)


def test_delete_in_place_swaps_atomically(source, tmp_path):
    root = tmp_path / "ds"
    shutil.copytree(source, root)
    delete_episodes(root, [0], in_place=True)
    assert json.loads((root / "meta/info.json").read_text())["total_episodes"] == 5
    assert_same_episode(source, 1, root, 0)
    assert not list(tmp_path.glob(".ds.*"))


def test_dry_run_writes_nothing(source, tmp_path):
    result = delete_episodes(source, "0", output=tmp_path / "out", dry_run=True)
    assert result.dry_run and "delete 1 episode" in result.lines[0]
    assert not (tmp_path / "out").exists()


def test_out_of_range_delete_writes_nothing_and_keeps_the_input(source, tmp_path):
    before = tree_digest(source)
    with pytest.raises(DatasetError, match=r"episodes \[99\] do not exist"):
        delete_episodes(source, "99", output=tmp_path / "out")
    assert not (tmp_path / "out").exists() and tree_digest(source) == before


def test_merge_refuses_with_every_mismatch_listed(source, tmp_path):
    with pytest.raises(DatasetError) as err:
        merge_datasets([source, FIXTURES / "pusht"], tmp_path / "out")
    msg = str(err.value)
    assert "robot_type" in msg and "observation.image" in msg and "next.reward" in msg and "mismatch" in msg
    assert not (tmp_path / "out").exists()


def test_split_by_episode_lists(source, tmp_path):
    result = split_dataset(source, tmp_path / "s", episodes={"train": "0-3", "val": [5]})
    assert result.details["splits"] == {"train": [0, 1, 2, 3], "val": [5]}
    assert_same_episode(source, 5, tmp_path / "s/val", 0)
    with pytest.raises(DatasetError, match="in both"):
        split_dataset(source, tmp_path / "t", episodes={"a": "0-2", "b": "2"})


def test_episode_not_on_a_key_frame_is_refused_unless_compact(tmp_path):
    from robotlearn.datasets.synthetic import write_synthetic_dataset
    from robotlearn.datasets.tools.remux import decode_all
    from robotlearn.datasets.video_encode import encode_video

    root = tmp_path / "ds"
    write_synthetic_dataset(root, num_episodes=2, episode_length=[6, 7], cameras={"top": (64, 64)}, vcodec="h264")
    video = root / "videos/observation.images.top/chunk-000/file-000.mp4"
    frames = [np.full_like(f, 40 + 3 * i) for i, (_, f) in enumerate(decode_all(video))]  # smooth: no scene cut
    video.unlink()
    encode_video(frames, video, 10, vcodec="h264", g=100)  # one stream, one key frame: episode 1 starts mid-GOP
    with pytest.raises(DatasetError, match="key frame"):
        delete_episodes(root, "0", output=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    result = delete_episodes(root, "0", output=tmp_path / "out", compact=True)
    assert any("re-encoded observation.images.top" in line for line in result.lines), result.lines
    assert validate(tmp_path / "out", deep=True).ok
    got, want = (
        episode_frames(tmp_path / "out", "observation.images.top", 0),
        episode_frames(root, "observation.images.top", 1),
    )
    assert got.shape == want.shape and np.abs(got.astype(int) - want.astype(int)).mean() < 3
