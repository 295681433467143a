"""The doctor: an intact dataset passes shallow and deep checks; damage is named by file and field; repair fixes
what a crash leaves."""

import json
import shutil
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.conftest import FIXTURES
from tests.datasets.tools.helpers import make_dataset, tree_digest

from robotlearn.datasets.errors import DatasetFormatError
from robotlearn.datasets.tools import repair, validate


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("validate") / "src")


def copy(source, tmp_path):
    dst = tmp_path / "ds"
    shutil.copytree(source, dst)
    return dst


@pytest.mark.parametrize("name", ["pusht", "images", "rollover"])
def test_reference_fixtures_pass_deep_validation(name):
    report = validate(FIXTURES / name, deep=True)
    assert report.ok, report.lines()
    assert report.checked["episodes"] > 0


def test_recorded_dataset_passes_and_nothing_is_written(source):
    before = tree_digest(source)
    report = validate(source, deep=True)
    assert report.ok, report.lines()
    assert report.checked["video_files"] >= 4 and report.checked["frames_decoded"] == 2 * 45
    assert tree_digest(source) == before


def test_missing_root_is_one_error():
    with pytest.raises(DatasetFormatError, match="No dataset at /does/not/exist"):
        validate("/does/not/exist")


def test_v21_dataset_names_the_convert_command(tmp_path):
    root = tmp_path / "old"
    (root / "meta").mkdir(parents=True)
    (root / "meta/info.json").write_text(json.dumps({"codebase_version": "v2.1", "fps": 10}))
    report = validate(root)
    assert len(report.problems) == 1 and "robotlearn dataset convert" in report.problems[0].message


def test_overlapping_episode_pointers_are_named(source, tmp_path):
    root = copy(source, tmp_path)
    path = sorted((root / "meta/episodes").rglob("*.parquet"))[1]  # tiny limits: one episode per file
    t = pq.read_table(path)
    start = t.column("dataset_from_index").to_numpy().copy()
    start[0] -= 1
    t = t.set_column(t.column_names.index("dataset_from_index"), "dataset_from_index", pa.array(start))
    pq.write_table(t, path)
    report = validate(root)
    assert any("overlap" in p.message and p.field == "dataset_from_index" for p in report.problems), report.lines()


def test_video_of_another_fps_is_named(source, tmp_path):
    root = copy(source, tmp_path)
    info = json.loads((root / "meta/info.json").read_text())
    info["fps"] = 20
    (root / "meta/info.json").write_text(json.dumps(info))
    report = validate(root)
    assert any("fps" in p.message and p.file.endswith(".mp4") for p in report.problems), report.lines()


def test_repair_fixes_what_a_crash_leaves(source, tmp_path):
    root = copy(source, tmp_path)
    # a torn tail: rows past the last episode in its data file; an orphan video; scratch files; stale totals
    last = sorted((root / "data").rglob("*.parquet"))[-1]
    t = pq.read_table(last)
    extra = t.slice(t.num_rows - 2, 2)
    extra = extra.set_column(extra.column_names.index("index"), "index", pa.array([10_000, 10_001], pa.int64()))
    pq.write_table(pa.concat_tables([t, extra]), last)
    orphan = root / "videos/observation.images.top/chunk-009/file-000.mp4"
    orphan.parent.mkdir(parents=True)
    shutil.copy(next((root / "videos/observation.images.top").rglob("*.mp4")), orphan)
    (root / ".staging").mkdir()
    (root / "meta/.info.json.123.tmp").write_text("{")
    info = json.loads((root / "meta/info.json").read_text())
    info["total_episodes"] = 99
    (root / "meta/info.json").write_text(json.dumps(info))
    (root / "meta/stats.json").write_text("{not json")

    before = validate(root)
    assert {p.fix for p in before.problems} == {"tail", "orphan", "leftover", "totals", "stats"}, before.lines()
    result, after = repair(root, dry_run=True)
    assert any(line.startswith("would ") for line in result.lines) and not after.ok
    result, after = repair(root)
    assert after.ok, after.lines()
    assert not orphan.exists() and not (root / ".staging").exists()
    assert validate(root, deep=True).ok


def test_cli_validate_json_and_exit_codes(source, tmp_path):
    root = copy(source, tmp_path)
    run = [sys.executable, "-m", "robotlearn.scripts.cli", "dataset", "validate", f"--root={root}", "--json"]
    ok = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True, ok.stderr
    (root / "meta/stats.json").unlink()
    bad = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and json.loads(bad.stdout)["problems"][0]["fix"] == "stats"
    fixed = subprocess.run(run + ["--repair"], capture_output=True, text=True, timeout=120)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr


def test_remote_root_is_checked_through_the_streaming_filesystem(source, tmp_path):
    from robotlearn.datasets.serve import RangeServer

    root = copy(source, tmp_path)
    broken = sorted((root / "data").rglob("*.parquet"))[1]
    broken.write_bytes(broken.read_bytes()[:100])
    with RangeServer(tmp_path) as server:
        report = validate(f"{server.url}/ds")
        assert report.checked["episodes"] == 6 and not report.ok
        assert [p.file for p in report.problems] == [f"{server.url}/ds/{broken.relative_to(root).as_posix()}"]
        with pytest.raises(DatasetFormatError, match="No dataset at"):
            validate(f"{server.url}/missing")
