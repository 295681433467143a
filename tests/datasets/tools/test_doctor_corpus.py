"""The doctor on a generated corpus of malformed datasets: every case gives a clear error (naming a file) or a
repair, within 20 s, without crashing, and leaves the input byte for byte as it was."""

import json
import os
import shutil
import signal
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.datasets.tools.helpers import make_dataset, tree_digest

from robotlearn.datasets.errors import DatasetError
from robotlearn.datasets.tools import repair, validate
from robotlearn.datasets.video_encode import encode_video

TOP = "observation.images.top"


# ---- small mutation helpers -------------------------------------------------------------------------------
def data_file(root):
    return sorted((root / "data").rglob("*.parquet"))[0]


def episodes_file(root):
    return sorted((root / "meta/episodes").rglob("*.parquet"))[0]


def video_file(root):
    return sorted((root / "videos" / TOP).rglob("*.mp4"))[0]


class Replace:
    """Returned by an edit_json function: write this value instead of the edited one."""

    def __init__(self, value):
        self.value = value


def edit_json(rel, fn):
    def mutate(root):
        path = root / rel
        data = json.loads(path.read_text())
        out = fn(data)
        path.write_text(json.dumps(out.value if isinstance(out, Replace) else data))

    return mutate


def info(fn):
    return edit_json("meta/info.json", fn)


def setitem(d, keys, value):
    for k in keys[:-1]:
        d = d[k]
    d[keys[-1]] = value


def truncate(pick, keep=0.5):
    def mutate(root):
        p = pick(root)
        p.write_bytes(p.read_bytes()[: int(p.stat().st_size * keep)])

    return mutate


def flip(pick, where):
    def mutate(root):
        p = pick(root)
        b = bytearray(p.read_bytes())
        footer = len(b) - 8 - int.from_bytes(b[-8:-4], "little")  # Parquet: thrift metadata, its length, PAR1
        at = {"footer": footer + 2, "middle": len(b) // 2, "head": 12}[where]
        for i in range(at, min(at + 8, len(b) - 4)):
            b[i] ^= 0xFF
        p.write_bytes(bytes(b))

    return mutate


def replace_bytes(pick, data):
    def mutate(root):
        pick(root).write_bytes(data)

    return mutate


def remove(pick):
    def mutate(root):
        p = pick(root)
        shutil.rmtree(p) if p.is_dir() else p.unlink()

    return mutate


def fifo(pick):
    def mutate(root):
        p = pick(root)
        p.unlink()
        os.mkfifo(p)

    return mutate


def sparse(pick):
    def mutate(root):
        p = pick(root)
        p.unlink()
        with open(p, "wb") as f:
            f.truncate(2**30)  # 1 GiB of holes

    return mutate


def symlink_out(pick):
    def mutate(root):
        p = pick(root)
        outside = root.parent / f"outside-{p.name}"
        shutil.copy(p, outside)
        p.unlink()
        p.symlink_to(outside)

    return mutate


def table_edit(pick, fn):
    def mutate(root):
        p = pick(root)
        t = pq.read_table(p)
        pq.write_table(fn(t), p)

    return mutate


def set_col(name, fn, type_=None):
    def edit(t):
        arr = fn(t.column(name).to_numpy(zero_copy_only=False).copy())
        return t.set_column(t.column_names.index(name), name, pa.array(arr, type_))

    return edit


def drop_col(name):
    return lambda t: t.drop_columns([name])


def add(index, delta):
    def fn(a):
        a[index] += delta
        return a

    return fn


def other_video(fps=10, size=(16, 16), frames=None):
    def mutate(root):
        p = video_file(root)
        n = frames if frames is not None else 6
        p.unlink()
        encode_video((np.full((size[0], size[1], 3), 90, np.uint8) for _ in range(n)), p, fps, vcodec="h264")

    return mutate


def ep_col(name, fn, type_=None):
    return table_edit(episodes_file, set_col(name, fn, type_))


def torn_tail(root):
    p = sorted((root / "data").rglob("*.parquet"))[-1]
    t = pq.read_table(p)
    extra = t.slice(0, 2)
    extra = extra.set_column(extra.column_names.index("index"), "index", pa.array([10_000, 10_001], pa.int64()))
    pq.write_table(pa.concat_tables([t, extra]), p)


def orphan_video(root):
    dst = root / "videos" / TOP / "chunk-042/file-000.mp4"
    dst.parent.mkdir(parents=True)
    shutil.copy(video_file(root), dst)


def swap_tasks(root):
    p = root / "meta/tasks.parquet"
    t = pq.read_table(p)
    names = t.column("task").to_pylist()
    names[0], names[1] = names[1], names[0]
    pq.write_table(t.set_column(t.column_names.index("task"), "task", pa.array(names)), p)


def symlink_videos_dir(root):
    d = root / "videos" / TOP
    outside = root.parent / "outside-videos"
    shutil.move(d, outside)
    d.symlink_to(outside, target_is_directory=True)


CASES = {
    # meta/info.json
    "info truncated": truncate(lambda r: r / "meta/info.json"),
    "info garbage": replace_bytes(lambda r: r / "meta/info.json", b"\x00\xffnot json"),
    "info empty": replace_bytes(lambda r: r / "meta/info.json", b""),
    "info is a list": info(lambda d: Replace([d])),
    "info without fps": info(lambda d: d.pop("fps")),
    "fps zero": info(lambda d: setitem(d, ["fps"], 0)),
    "fps a string": info(lambda d: setitem(d, ["fps"], "ten")),
    "fps fractional": info(lambda d: setitem(d, ["fps"], 12.5)),
    "features not a dict": info(lambda d: setitem(d, ["features"], [1, 2])),
    "shape a string": info(lambda d: setitem(d, ["features", "observation.state", "shape"], "2")),
    "unknown dtype": info(lambda d: setitem(d, ["features", "action", "dtype"], "float17")),
    "no index feature": info(lambda d: d["features"].pop("index")),
    "version v2.1": info(lambda d: setitem(d, ["codebase_version"], "v2.1")),
    "no version": info(lambda d: d.pop("codebase_version")),
    "absolute data_path": info(lambda d: setitem(d, ["data_path"], "/etc/{chunk_index}-{file_index}.parquet")),
    "data_path leaves root": info(
        lambda d: setitem(d, ["data_path"], "../../x/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet")
    ),
    "video_path leaves root": info(
        lambda d: setitem(d, ["video_path"], "../{video_key}/{chunk_index}/{file_index}.mp4")
    ),
    "data_path bad placeholder": info(lambda d: setitem(d, ["data_path"], "data/{nope}.parquet")),
    "total_episodes wrong": info(lambda d: setitem(d, ["total_episodes"], 7)),
    "state shape wrong": info(lambda d: setitem(d, ["features", "observation.state", "shape"], [3])),
    "state dtype wrong": info(lambda d: setitem(d, ["features", "observation.state", "dtype"], "int16")),
    "camera other resolution in info": info(lambda d: setitem(d, ["features", TOP, "shape"], [32, 32, 3])),
    "dataset fps differs from videos": info(lambda d: setitem(d, ["fps"], 20)),
    "codec differs from videos": info(lambda d: setitem(d, ["features", TOP, "info", "video.codec"], "av1")),
    "info is a FIFO": fifo(lambda r: r / "meta/info.json"),
    "info huge sparse": sparse(lambda r: r / "meta/info.json"),
    "info symlink outside": symlink_out(lambda r: r / "meta/info.json"),
    # meta/tasks.parquet
    "tasks truncated": truncate(lambda r: r / "meta/tasks.parquet"),
    "tasks missing": remove(lambda r: r / "meta/tasks.parquet"),
    "tasks bit-flipped footer": flip(lambda r: r / "meta/tasks.parquet", "footer"),
    "tasks gap in index": table_edit(lambda r: r / "meta/tasks.parquet", set_col("task_index", lambda a: a * 2)),
    "tasks wrong columns": table_edit(lambda r: r / "meta/tasks.parquet", lambda t: t.rename_columns(["a", "b"])),
    "tasks swapped": swap_tasks,
    # meta/episodes
    "episodes truncated": truncate(episodes_file),
    "episodes bit-flipped footer": flip(episodes_file, "footer"),
    "episodes garbage": replace_bytes(episodes_file, os.urandom(3000)),
    "episodes lack dataset_to_index": table_edit(episodes_file, drop_col("dataset_to_index")),
    "episodes out of order": ep_col("episode_index", lambda a: a + 3),
    "episode pointers overlap": table_edit(
        lambda r: sorted((r / "meta/episodes").rglob("*.parquet"))[1], set_col("dataset_from_index", add(0, -1))
    ),
    "data pointer out of range": ep_col("data/file_index", lambda a: a + 99),
    "length wrong": ep_col("length", add(0, 1)),
    "negative from_timestamp": ep_col(f"videos/{TOP}/from_timestamp", add(0, -1.0)),
    "video pointer out of range": ep_col(f"videos/{TOP}/file_index", lambda a: a + 99),
    "to_timestamp past the video": ep_col(f"videos/{TOP}/to_timestamp", add(0, 5.0)),
    "from_timestamp NaN": ep_col(f"videos/{TOP}/from_timestamp", lambda a: a * np.nan),
    "length as text": ep_col("length", lambda a: a.astype(str), pa.string()),
    "episode lists unknown task": ep_col("tasks", lambda a: [["no such task"] for _ in a], pa.list_(pa.string())),
    "episodes folder missing": remove(lambda r: r / "meta/episodes"),
    # data/
    "data truncated": truncate(data_file),
    "data bit-flipped footer": flip(data_file, "footer"),
    "data garbage": replace_bytes(data_file, os.urandom(5000)),
    "data missing": remove(data_file),
    "data is a FIFO": fifo(data_file),
    "data huge sparse": sparse(data_file),
    "data symlink outside": symlink_out(data_file),
    "timestamps NaN": table_edit(data_file, set_col("timestamp", lambda a: a * np.nan, pa.float32())),
    "timestamps not monotonic": table_edit(data_file, set_col("timestamp", lambda a: a[::-1].copy(), pa.float32())),
    "timestamps other fps": table_edit(data_file, set_col("timestamp", lambda a: a * 2, pa.float32())),
    "frame_index wrong": table_edit(data_file, set_col("frame_index", lambda a: a + 1)),
    "episode_index wrong": table_edit(data_file, set_col("episode_index", lambda a: a + 1)),
    "index duplicated": table_edit(data_file, set_col("index", lambda a: np.where(a == a[-1], a[0], a))),
    "task_index out of range": table_edit(data_file, set_col("task_index", lambda a: a + 50)),
    "column missing": table_edit(data_file, drop_col("action")),
    "column wrong shape": table_edit(
        data_file,
        lambda t: t.set_column(
            t.column_names.index("action"),
            "action",
            pa.array([[0.0, 1.0, 2.0]] * t.num_rows, pa.list_(pa.float64(), 3)),
        ),
    ),
    "torn tail": torn_tail,
    # videos/
    "video missing": remove(video_file),
    "video truncated": truncate(video_file, 0.6),
    "video garbage": replace_bytes(video_file, os.urandom(4000)),
    "video bit-flipped header": flip(video_file, "head"),
    "video other resolution": other_video(size=(32, 32)),
    "video other fps": other_video(fps=20),
    "video too short": other_video(frames=3),
    "video is a FIFO": fifo(video_file),
    "video symlink outside": symlink_out(video_file),
    "videos folder symlink outside": symlink_videos_dir,
    "orphan video": orphan_video,
    "leftover staging": lambda r: (r / ".staging/x").mkdir(parents=True),
    # meta/stats.json
    "stats garbage": replace_bytes(lambda r: r / "meta/stats.json", b"{garbage"),
    "stats NaN": edit_json("meta/stats.json", lambda d: setitem(d, ["action", "mean"], [float("nan")] * 2)),
    "stats wrong shape": edit_json("meta/stats.json", lambda d: setitem(d, ["action", "mean"], [1.0, 2.0, 3.0])),
}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("corpus") / "base", episodes=(6, 7, 5))


class _Timeout(Exception):
    pass


FIRED = []


def _alarm(signum, frame):
    FIRED.append(signum)  # recorded too: code under test might turn the exception into its own error
    raise _Timeout


def test_corpus_has_at_least_60_cases():
    assert len(CASES) >= 60, len(CASES)


@pytest.mark.parametrize("case", list(CASES))
def test_doctor_names_the_problem_or_repairs_it(case, base, tmp_path):
    root = tmp_path / "ds"
    shutil.copytree(base, root)
    CASES[case](root)
    before = tree_digest(root)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(20)
    FIRED.clear()
    start = time.perf_counter()
    try:
        try:
            report = validate(root)
            if report.ok:
                report = validate(root, deep=True)
            problems = report.problems
        except DatasetError as e:  # no dataset at all: one error naming the folder
            problems, report = [str(e)], None
    except _Timeout:
        pytest.fail(f"{case}: validate took more than 20 s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    elapsed = time.perf_counter() - start
    assert not FIRED, f"{case}: validate took more than 20 s"
    assert problems, f"{case}: the doctor found nothing"
    assert elapsed < 20
    assert tree_digest(root) == before, f"{case}: validate changed the input"
    if report is not None:
        for p in report.problems:
            assert p.file and p.message and "Traceback" not in p.message
        if all(p.fix for p in report.problems):  # every problem repairable: repair must make it valid
            _result, after = repair(root)
            assert after.ok, (case, after.lines())
    print(f"{case}: {problems[0] if report is None else report.lines()[0]}")


@pytest.mark.parametrize("case", list(CASES))
def test_reader_reads_or_raises_a_robotlearn_error(case, base, tmp_path):
    """The ordinary reader on the same damage: every sample read, or a robotlearn error; no hang, no foreign error."""
    from robotlearn.datasets import LeRobotDataset
    from robotlearn.errors import RobotlearnError

    root = tmp_path / "ds"
    shutil.copytree(base, root)
    CASES[case](root)
    before = tree_digest(root)
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(20)
    FIRED.clear()
    try:
        ds = LeRobotDataset("corpus/case", root=root, download=False)
        for i in range(len(ds)):
            ds[i]
    except RobotlearnError:
        pass
    except _Timeout:
        pytest.fail(f"{case}: reading took more than 20 s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    assert not FIRED, f"{case}: reading took more than 20 s"
    assert tree_digest(root) == before
