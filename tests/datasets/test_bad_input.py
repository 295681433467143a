"""Bad input gets a clear exception naming the file and the field; nothing on disk is changed."""

import hashlib
import json
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.conftest import FIXTURES

from robotlearn.datasets import DatasetFormatError, FrameTimestampError, LeRobotDataset


def snapshot(root):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def pusht(tmp_path):
    root = tmp_path / "pusht"
    shutil.copytree(FIXTURES / "pusht", root)
    return root


def read_all(root, **kw):
    ds = LeRobotDataset("x", root=root, **kw)
    for i in range(len(ds)):
        ds[i]
    return ds


def edit_info(root, **changes):
    path = root / "meta/info.json"
    info = json.loads(path.read_text())
    info.update(changes)
    path.write_text(json.dumps(info))


def test_truncated_data_parquet_names_the_file(pusht):
    path = pusht / "data/chunk-000/file-000.parquet"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    before = snapshot(pusht)
    with pytest.raises(DatasetFormatError, match=r"data/chunk-000/file-000.parquet.*truncated"):
        read_all(pusht)
    assert snapshot(pusht) == before


def test_missing_data_parquet_names_the_file(pusht):
    (pusht / "data/chunk-000/file-000.parquet").unlink()
    with pytest.raises(DatasetFormatError, match=r"file-000.parquet: data file not found"):
        read_all(pusht)


def test_truncated_episodes_table(pusht):
    path = pusht / "meta/episodes/chunk-000/file-000.parquet"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(DatasetFormatError, match=r"meta/episodes/chunk-000/file-000.parquet"):
        LeRobotDataset("x", root=pusht)


def test_malformed_info_json(pusht):
    (pusht / "meta/info.json").write_text('{"fps": 10,')
    with pytest.raises(DatasetFormatError, match=r"info.json: invalid JSON at line 1"):
        LeRobotDataset("x", root=pusht)


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"fps": "ten"}, r"info.json: field 'fps' must be int"),
        ({"fps": 0}, r"info.json: field 'fps' has invalid value 0"),
        ({"codebase_version": "v2.1"}, r"codebase_version is 'v2.1'.*convert"),
        ({"features": {"a/b": {"dtype": "float32", "shape": [1]}}}, r"'a/b' contains '/'"),
        ({"features": "nope"}, r"field 'features' must be dict"),
        ({"data_path": "../../outside/{chunk_index}/{file_index}.parquet"}, r"'data_path'.*outside the dataset root"),
        ({"data_path": "/etc/{chunk_index}{file_index}"}, r"'data_path' gives an absolute path"),
        ({"video_path": "videos/../../../{video_key}/{chunk_index}-{file_index}.mp4"}, r"'video_path'.*outside"),
    ],
)
def test_bad_info_fields_name_the_field(pusht, changes, match):
    edit_info(pusht, **changes)
    with pytest.raises(DatasetFormatError, match=match):
        LeRobotDataset("x", root=pusht)


def test_missing_info_field(pusht):
    info = json.loads((pusht / "meta/info.json").read_text())
    del info["data_path"]
    (pusht / "meta/info.json").write_text(json.dumps(info))
    with pytest.raises(DatasetFormatError, match=r"info.json: missing field 'data_path'"):
        LeRobotDataset("x", root=pusht)


def test_missing_video_names_the_file(pusht):
    (pusht / "videos/observation.image/chunk-000/file-000.mp4").unlink()
    with pytest.raises(DatasetFormatError, match=r"observation.image/chunk-000/file-000.mp4"):
        LeRobotDataset("x", root=pusht)[0]


def test_short_video_raises_instead_of_returning_a_wrong_frame(pusht):
    # Replace the camera file by a valid but shorter one (80 frames): later episodes point past its end.
    import numpy as np

    from robotlearn.datasets.video import encode_video

    path = pusht / "videos/observation.image/chunk-000/file-000.mp4"
    short = path.with_name("short.mp4")
    encode_video((np.full((96, 96, 3), i, np.uint8) for i in range(80)), short, fps=10)
    short.replace(path)
    ds = LeRobotDataset("x", root=pusht)
    ds[0]
    with pytest.raises((FrameTimestampError, DatasetFormatError), match=r"file-000.mp4"):
        ds[len(ds) - 1]


def test_frames_outside_tolerance_name_file_and_episode(pusht):
    path = pusht / "meta/episodes/chunk-000/file-000.parquet"
    table = pq.read_table(path)
    col = "videos/observation.image/from_timestamp"
    shifted = pa.array([v + 0.05 for v in table.column(col).to_pylist()], pa.float64())
    pq.write_table(table.set_column(table.schema.get_field_index(col), col, shifted), path)
    ds = LeRobotDataset("x", root=pusht)
    with pytest.raises(FrameTimestampError, match=r"file-000.mp4.*episode 2") as err:
        ds[ds.meta.episodes[2]["dataset_from_index"] + 3]
    assert isinstance(err.value, ValueError)
    # a generous tolerance accepts the nearest frame
    LeRobotDataset("x", root=pusht, tolerance_s=0.06)[ds.meta.episodes[2]["dataset_from_index"] + 3]


def test_delta_timestamps_must_be_whole_frames(pusht):
    with pytest.raises(ValueError, match=r"\[0.05\] are not multiples of 1/fps"):
        LeRobotDataset("x", root=pusht, delta_timestamps={"action": [0.0, 0.05]})
    with pytest.raises(ValueError, match=r"unknown feature 'actions'"):
        LeRobotDataset("x", root=pusht, delta_timestamps={"actions": [0.0]})


def test_missing_root_without_download_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetFormatError, match=r"info.json: file not found"):
        LeRobotDataset("x", root=tmp_path / "nothing_here", download=False)
