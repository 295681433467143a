"""Writing: what robotlearn records reads back exactly, with the reference's files, columns and dtypes."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from tests.conftest import FIXTURES

from robotlearn.datasets import DatasetError, FeatureError, LeRobotDataset
from robotlearn.datasets.synthetic import expected_level, expected_state, synthetic_features, write_synthetic_dataset

CAMS = {"top": (32, 48), "wrist": (16, 16)}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    root = tmp_path_factory.mktemp("rec") / "ds"
    write_synthetic_dataset(root, num_episodes=3, episode_length=[20, 15, 25], cameras=CAMS, state_dim=3)
    return root


def test_every_frame_reads_back_as_written(recorded):
    ds = LeRobotDataset("synthetic/dataset", root=recorded, return_uint8=True)
    assert len(ds) == 60 and ds.meta.total_episodes == 3
    for i in range(len(ds)):
        item = ds[i]
        e, f = int(item["episode_index"]), int(item["frame_index"])
        np.testing.assert_array_equal(item["observation.state"].numpy(), expected_state(e, f, 3))
        np.testing.assert_array_equal(item["action"].numpy(), expected_state(e, f, 3) + 0.5)
        assert float(item["timestamp"]) == pytest.approx(f / 10)
        assert item["task"] == ("task A", "task B")[e % 2]
        for c, cam in enumerate(CAMS):
            level = item[f"observation.images.{cam}"].numpy().astype(int)
            assert np.abs(level - expected_level(e, f, c)).max() <= 2, (i, cam)


def test_windows_cross_no_episode_boundary(recorded):
    ds = LeRobotDataset(
        "synthetic/dataset",
        root=recorded,
        delta_timestamps={"action": [-0.2, -0.1, 0.0, 0.1], "observation.images.top": [-0.1, 0.0]},
        return_uint8=True,
    )
    item = ds[20]  # first frame of episode 1
    assert item["action_is_pad"].tolist() == [True, True, False, False]
    np.testing.assert_array_equal(item["action"][0].numpy(), expected_state(1, 0, 3) + 0.5)  # repeat-edge
    np.testing.assert_array_equal(item["action"][3].numpy(), expected_state(1, 1, 3) + 0.5)
    assert item["observation.images.top"].shape == (2, 3, 32, 48)
    assert abs(int(item["observation.images.top"][0, 0, 0, 0]) - expected_level(1, 0)) <= 2


def test_every_window_shape_matches_the_clamping_rule(recorded):
    # Consecutive windows read a slice of the rows, others an index array, and keys with equal offsets share
    # one: each must give FORMAT.md's clamp-and-pad result at every frame, episode edges included.
    deltas = {
        "action": [0.0, 0.1, 0.2, 0.3],  # consecutive, runs past the episode's end
        "observation.state": [-0.1, 0.0],  # consecutive, the same offsets as the camera: shared
        "observation.images.top": [-0.1, 0.0],
        "timestamp": [-0.3, 0.0, 0.2],  # not consecutive
    }
    ds = LeRobotDataset("synthetic/dataset", root=recorded, delta_timestamps=deltas, return_uint8=True)
    starts, ends = ds.meta.episode_columns["dataset_from_index"], ds.meta.episode_columns["dataset_to_index"]
    for i in range(len(ds)):
        item = ds[i]
        e = int(item["episode_index"])
        start, end = int(starts[e]), int(ends[e])
        for key, seconds in deltas.items():
            wanted = np.array([i + round(s * 10) for s in seconds])
            query = np.clip(wanted, start, end - 1) - start  # frame indices within the episode
            assert item[f"{key}_is_pad"].tolist() == (wanted != query + start).tolist(), (i, key)
            if key == "action":
                want = np.stack([expected_state(e, f, 3) + 0.5 for f in query])
            elif key == "observation.state":
                want = np.stack([expected_state(e, f, 3) for f in query])
            elif key == "timestamp":
                want = (query / 10).astype(np.float32)
            else:
                levels = item[key].numpy().reshape(len(query), -1).mean(axis=1)
                assert np.abs(levels - [expected_level(e, f) for f in query]).max() <= 2, (i, key)
                continue
            np.testing.assert_allclose(item[key].numpy(), want, rtol=1e-6, err_msg=f"{key} at {i}")
    # A sample owns its values: writing into one changes neither the dataset nor the next sample.
    item = ds[5]
    item["action"].fill_(-7.0)
    item["observation.state"].fill_(-7.0)
    again = ds[5]
    assert float(again["action"].min()) > -7.0 and float(again["observation.state"].min()) > -7.0


def test_files_columns_and_dtypes_match_the_reference(recorded):
    ref = FIXTURES / "rollover"
    ours_info = json.loads((recorded / "meta/info.json").read_text())
    ref_info = json.loads((ref / "meta/info.json").read_text())
    assert set(ours_info) == set(ref_info)
    ref_video_info = ref_info["features"]["observation.images.front"]["info"]
    assert set(ours_info["features"]["observation.images.top"]["info"]) == set(ref_video_info)
    for key in ("timestamp", "frame_index", "episode_index", "index", "task_index"):
        assert ours_info["features"][key] == ref_info["features"][key]
    # data parquet: the same arrow types for the same kinds of columns
    ours = pq.read_schema(recorded / "data/chunk-000/file-000.parquet")
    theirs = pq.read_schema(ref / "data/chunk-000/file-000.parquet")
    for name in ("timestamp", "frame_index", "episode_index", "index", "task_index"):
        assert ours.field(name).type == theirs.field(name).type
    assert ours.field("observation.state").type.value_type == theirs.field("observation.state").type.value_type
    assert json.loads(ours.metadata[b"huggingface"])["info"]["features"]["action"]["_type"] == "List"
    # one row group per episode
    assert pq.ParquetFile(recorded / "data/chunk-000/file-000.parquet").num_row_groups == 3
    # episodes table: the reference's columns for the same features
    ours_ep = pq.read_schema(recorded / "meta/episodes/chunk-000/file-000.parquet")
    theirs_ep = pq.read_schema(ref / "meta/episodes/chunk-000/file-000.parquet")
    rename = lambda n: n.replace("observation.images.front", "observation.images.top").replace(
        "observation.images.side", "observation.images.wrist"
    )
    wanted = {rename(n): theirs_ep.field(n).type for n in theirs_ep.names if "environment_state" not in n}
    got = {n: ours_ep.field(n).type for n in ours_ep.names}
    assert wanted == got
    # tasks table
    assert pq.read_schema(recorded / "meta/tasks.parquet").names == pq.read_schema(ref / "meta/tasks.parquet").names
    stats = json.loads((recorded / "meta/stats.json").read_text())
    assert np.asarray(stats["observation.images.top"]["mean"]).shape == (3, 1, 1)
    assert set(stats["action"]) == set(json.loads((ref / "meta/stats.json").read_text())["action"])


def test_image_features_are_png_in_parquet(tmp_path):
    write_synthetic_dataset(
        tmp_path / "img", num_episodes=2, episode_length=5, cameras={"top": (8, 8)}, use_videos=False
    )
    ds = LeRobotDataset("x", root=tmp_path / "img")
    assert ds.meta.image_keys == ["observation.images.top"] and not (tmp_path / "img" / "videos").exists()
    assert abs(float(ds[6]["observation.images.top"][0, 0, 0]) * 255 - expected_level(1, 1)) < 0.5
    col = pq.read_table(tmp_path / "img/data/chunk-000/file-000.parquet").column("observation.images.top")
    assert col[0].as_py()["bytes"][:4] == b"\x89PNG"


def test_resume_appends_without_touching_saved_episodes(tmp_path):
    root = tmp_path / "ds"
    write_synthetic_dataset(root, num_episodes=2, episode_length=6, cameras={"top": (16, 16)})
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file() and "meta" not in p.parts}
    ds = LeRobotDataset.resume("synthetic/dataset", root)
    from robotlearn.datasets.synthetic import synthetic_frame

    for f in range(4):
        ds.add_frame(synthetic_frame(2, f, 2, {"top": (16, 16)}, "task C"))
    assert ds.save_episode() == 2
    ds.finalize()
    for p, content in before.items():
        assert p.read_bytes() == content, f"{p} was rewritten"
    r = LeRobotDataset("x", root=root, return_uint8=True)
    assert r.meta.total_episodes == 3 and len(r) == 16 and r.meta.tasks == ["task A", "task B", "task C"]
    assert r[12]["task"] == "task C" and abs(int(r[13]["observation.images.top"][0, 0, 0]) - expected_level(2, 1)) <= 2


def test_rollover_by_size_and_chunks(tmp_path):
    root = tmp_path / "ds"
    write_synthetic_dataset(
        root,
        num_episodes=5,
        episode_length=8,
        cameras={"top": (16, 16)},
        data_files_size_in_mb=1e-6,
        video_files_size_in_mb=1e-6,
        chunks_size=2,
    )
    files = sorted(p.relative_to(root).as_posix() for p in (root / "data").rglob("*.parquet"))
    assert files == [
        "data/chunk-000/file-000.parquet",
        "data/chunk-000/file-001.parquet",
        "data/chunk-001/file-000.parquet",
        "data/chunk-001/file-001.parquet",
        "data/chunk-002/file-000.parquet",
    ]
    ds = LeRobotDataset("x", root=root, return_uint8=True)
    for i in range(len(ds)):
        e, f = int(ds[i]["episode_index"]), int(ds[i]["frame_index"])
        assert abs(int(ds[i]["observation.images.top"][0, 0, 0]) - expected_level(e, f)) <= 2


def test_create_refuses_an_existing_dataset(recorded):
    with pytest.raises(FileExistsError, match="resume"):
        LeRobotDataset.create("x", fps=10, features=synthetic_features(2, {}), root=recorded)


@pytest.mark.parametrize(
    "frame_update, match",
    [
        ({"observation.state": np.zeros(3, np.float32)}, r"'observation.state'.*shape \[2\].*\(3,\)"),
        ({"observation.state": np.zeros(2, np.int64) + np.int64(1) * 0 + np.array([1, 2])}, None),
        ({"action": np.zeros(2, np.complex64)}, "'action' has dtype complex64"),
        ({"extra": 1.0}, r"unknown features \['extra'\]"),
        ({"task": ""}, "'task'"),
        ({"observation.images.top": np.zeros((10, 10, 3), np.uint8)}, r"'observation.images.top'.*\(16, 16, 3\)"),
        ({"index": 3}, "filled in by the writer"),
    ],
)
def test_add_frame_rejects_bad_frames_with_a_clear_message(tmp_path, frame_update, match):
    ds = LeRobotDataset.create("x", fps=10, features=synthetic_features(2, {"top": (16, 16)}), root=tmp_path / "ds")
    from robotlearn.datasets.synthetic import synthetic_frame

    frame = {**synthetic_frame(0, 0, 2, {"top": (16, 16)}, "t"), **frame_update}
    if match is None:  # ints are safely cast to float32
        ds.add_frame(frame)
        assert ds.writer.buffer.size == 1
    else:
        with pytest.raises(FeatureError, match=match):
            ds.add_frame(frame)
        assert ds.writer.buffer is None  # nothing half-added
    ds.finalize()


def test_missing_feature_and_slash_in_name_are_rejected(tmp_path):
    with pytest.raises(FeatureError, match="contains '/'"):
        LeRobotDataset.create(
            "x", fps=10, features={"obs/state": {"dtype": "float32", "shape": (2,)}}, root=tmp_path / "a"
        )
    ds = LeRobotDataset.create("x", fps=10, features=synthetic_features(2, {}), root=tmp_path / "b")
    with pytest.raises(FeatureError, match=r"missing features \['action'\]"):
        ds.add_frame({"observation.state": np.zeros(2, np.float32), "task": "t"})


def test_clear_episode_buffer_discards_only_the_current_episode(tmp_path):
    from robotlearn.datasets.synthetic import synthetic_frame

    ds = LeRobotDataset.create("x", fps=10, features=synthetic_features(2, {"top": (16, 16)}), root=tmp_path / "ds")
    for f in range(3):
        ds.add_frame(synthetic_frame(0, f, 2, {"top": (16, 16)}, "keep"))
    ds.save_episode()
    for f in range(5):
        ds.add_frame(synthetic_frame(9, f, 2, {"top": (16, 16)}, "drop"))
    ds.clear_episode_buffer()
    with pytest.raises(DatasetError, match="no frames"):
        ds.save_episode()
    ds.finalize()
    ds.finalize()  # idempotent
    r = LeRobotDataset("x", root=tmp_path / "ds")
    assert len(r) == 3 and r.meta.tasks == ["keep"]


def test_scalar_features_are_stored_as_scalars_and_read_back_0d(tmp_path):
    features = {
        **synthetic_features(2, {}),
        "next.reward": {"dtype": "float32", "shape": (1,), "names": None},
        "next.done": {"dtype": "bool", "shape": (1,), "names": None},
    }
    ds = LeRobotDataset.create("x", fps=10, features=features, root=tmp_path / "ds")
    from robotlearn.datasets.synthetic import synthetic_frame

    for f in range(4):
        ds.add_frame(
            {**synthetic_frame(0, f, 2, {}, "t"), "next.reward": np.array([f / 2], np.float32), "next.done": f == 3}
        )
    ds.save_episode()
    schema = pq.read_schema(tmp_path / "ds/data/chunk-000/file-000.parquet")
    assert str(schema.field("next.reward").type) == "float" and str(schema.field("next.done").type) == "bool"
    r = LeRobotDataset("x", root=tmp_path / "ds")
    assert r[3]["next.reward"].shape == () and float(r[3]["next.reward"]) == 1.5 and bool(r[3]["next.done"])


def assert_metadata_equal(got, want) -> None:
    assert got.info == want.info and got.tasks == want.tasks
    assert got.stats.keys() == want.stats.keys()
    for feat, st in want.stats.items():
        assert st.keys() == got.stats[feat].keys(), feat
        for k, v in st.items():
            np.testing.assert_array_equal(got.stats[feat][k], v, err_msg=f"{feat}/{k}")
            assert got.stats[feat][k].dtype == v.dtype
    assert list(got.episode_columns) == list(want.episode_columns)
    for name, v in want.episode_columns.items():
        g = got.episode_columns[name]
        assert g.dtype == v.dtype and g.shape == v.shape, name
        assert g.tolist() == v.tolist() if v.dtype == object else np.array_equal(g, v, equal_nan=True), name


@pytest.mark.parametrize("start", ["new", "reference"])
def test_metadata_after_each_save_is_what_reading_the_files_gives(tmp_path, start):
    """save_episode updates the dataset's metadata in memory (no re-read of meta/ per save): it must equal a
    fresh read of the files, whatever the tasks per episode, file rollovers, or a dataset the reference began."""
    import shutil

    from robotlearn.datasets.metadata import LeRobotDatasetMetadata
    from robotlearn.datasets.synthetic import synthetic_frame

    root = tmp_path / "ds"
    if start == "new":
        cams = {"top": (16, 16)}
        ds = LeRobotDataset.create(
            "x", fps=10, features=synthetic_features(2, cams), root=root, data_files_size_in_mb=1e-6, chunks_size=2
        )
        frame = lambda e, f, task: synthetic_frame(e, f, 2, cams, task)
    else:
        shutil.copytree(FIXTURES / "pusht", root)
        ds = LeRobotDataset.resume("x", root)
        names = [
            k for k in ds.meta.features if k not in ("timestamp", "frame_index", "episode_index", "index", "task_index")
        ]
        rng = np.random.default_rng(0)

        def frame(e, f, task):
            out = {"task": task}
            for k in names:
                ft = ds.meta.features[k]
                shape = tuple(ft["shape"])
                out[k] = (
                    rng.integers(0, 255, shape, dtype=np.uint8)
                    if ft["dtype"] in ("video", "image")
                    else rng.standard_normal(shape).astype(ft["dtype"])
                )
            return out

    first = ds.meta.total_episodes
    for e, tasks in enumerate([["a"], ["a", "b"], ["c"], ["b", "b", "d"]], start=first):
        for f in range(6):
            ds.add_frame(frame(e, f, tasks[f * len(tasks) // 6]))
        ds.save_episode()
        ds.meta.stats  # noqa: B018 - waits for meta/stats.json, written in the background after each save
        assert_metadata_equal(ds.meta, LeRobotDatasetMetadata("x", root=root))
    ds.finalize()
    assert_metadata_equal(ds.meta, LeRobotDatasetMetadata("x", root=root))


def test_a_failure_writing_stats_json_in_the_background_is_raised_not_lost(tmp_path, monkeypatch):
    from robotlearn.datasets import writer as writer_mod
    from robotlearn.datasets.synthetic import synthetic_frame

    ds = LeRobotDataset.create("x", fps=10, features=synthetic_features(2, {}), root=tmp_path / "ds")
    for f in range(3):
        ds.add_frame(synthetic_frame(0, f, 2, {}, "t"))

    def broken(stats_list):
        raise OSError("disk full")

    monkeypatch.setattr(writer_mod.stats_lib, "aggregate_stats", broken)
    assert ds.save_episode() == 0  # the episode is committed; its stats.json is written afterwards
    with pytest.raises(OSError, match="disk full"):
        ds.finalize()
    assert LeRobotDataset("x", root=tmp_path / "ds").meta.total_episodes == 1
