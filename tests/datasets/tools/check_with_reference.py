"""By-hand check of dataset-tool outputs with the reference implementation (lerobot, any release reading v3.0).

    PYTHONPATH=<where lerobot is importable> python -m tests.datasets.tools.check_with_reference [WORKDIR]

Makes a dataset with robotlearn's writer, then split -> merge and delete-episodes with robotlearn's tools,
and reads input and outputs with lerobot's `LeRobotDataset`: the reference must open every output, see
the same rows (all columns; index/episode_index renumbered after delete), the same tasks, episode
lengths and stats (within 1e-6), and the frame the reference's metadata points to (from_timestamp +
timestamp in the file it names) must decode to the same pixels as in the input. Frames are decoded with
PyAV directly, so the check also runs where lerobot's own decoder (torchcodec or torchvision) is not
installed. Not part of `make test` (it needs lerobot); the last run is reported in docs/dataset_tools.md.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np


def _frame(path: Path, t: float) -> np.ndarray:
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        c.seek(int(t / s.time_base), stream=s, backward=True, any_frame=False)
        for f in c.decode(s):
            if abs(float(f.pts * s.time_base) - t) < 1e-4:
                return f.to_ndarray(format="rgb24")
    raise AssertionError(f"{path}: no frame at t={t}")


def _reference(root: Path):
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    return LeRobotDataset("check/ref", root=root, video_backend="pyav")


def _rows(ds) -> list[dict]:
    return ds.hf_dataset.with_format(None).to_list()


def _frame_at(ds, root: Path, key: str, ep: int, timestamp: float) -> np.ndarray:
    e = ds.meta.episodes[ep]
    path = root / ds.meta.get_video_file_path(ep, key)
    return _frame(path, float(e[f"videos/{key}/from_timestamp"]) + timestamp)


def check(work: Path) -> None:
    from tests.datasets.tools.helpers import make_dataset

    from robotlearn.datasets.tools import delete_episodes, merge_datasets, split_dataset

    src = make_dataset(work / "src", episodes=(6, 7, 8, 9, 10, 5))
    split_dataset(src, work / "parts", fractions={"a": 0.5, "b": 0.5})
    merge_datasets([work / "parts/a", work / "parts/b"], work / "merged")
    delete_episodes(src, "1,4", output=work / "deleted")
    a = _reference(src)
    for name, kept in (("merged", list(range(6))), ("deleted", [0, 2, 3, 5])):
        out = work / name
        b = _reference(out)
        assert b.meta.total_episodes == len(kept), name
        rows_a, rows_b = _rows(a), _rows(b)
        for new, old in enumerate(kept):
            ea, eb = a.meta.episodes[old], b.meta.episodes[new]
            assert ea["length"] == eb["length"] and list(ea["tasks"]) == list(eb["tasks"]), (name, old)
            ra = rows_a[ea["dataset_from_index"] : ea["dataset_to_index"]]
            rb = rows_b[eb["dataset_from_index"] : eb["dataset_to_index"]]
            for x, y in zip(ra, rb):
                for k in x:
                    if k in ("index", "episode_index", "task_index") and name == "deleted":
                        continue
                    assert x[k] == y[k], (name, old, k, x[k], y[k])
                assert a.meta.tasks.index[x["task_index"]] == b.meta.tasks.index[y["task_index"]]
            for key in a.meta.video_keys:
                for r in (ra[0], ra[-1]):
                    t = float(r["timestamp"])
                    assert np.array_equal(_frame_at(a, src, key, old, t), _frame_at(b, out, key, new, t)), (
                        name,
                        key,
                        old,
                    )
        if name == "merged":
            for feat, st in a.meta.stats.items():
                for stat, value in st.items():
                    np.testing.assert_allclose(b.meta.stats[feat][stat], value, rtol=1e-6, err_msg=f"{feat}/{stat}")
        print(
            f"{name}: the reference reads {b.meta.total_episodes} episodes, {b.meta.total_frames} frames; rows, tasks, "
            f"frames{' and stats' if name == 'merged' else ''} match the input"
        )


def main() -> None:
    import lerobot

    print(f"reference: lerobot {getattr(lerobot, '__version__', '?')} at {Path(lerobot.__file__).parent}")
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="refcheck_"))
    shutil.rmtree(work, ignore_errors=True)
    check(work)
    print("OK")


if __name__ == "__main__":
    main()
