"""`write_rrd` and `robotlearn dataset view --rerun`, read back with rerun's own reader (`rerun.chunk.RrdReader`)."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

rr = pytest.importorskip("rerun")
from rerun.chunk import RrdReader  # noqa: E402

from robotlearn.datasets.synthetic import expected_state, write_synthetic_dataset  # noqa: E402

LENGTHS = [6, 9]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("rrd") / "ds"
    write_synthetic_dataset(root, num_episodes=2, episode_length=LENGTHS, state_dim=3, cameras={"top": (32, 48)})
    return root


def chunks(path: Path) -> dict[str, list]:
    """entity path -> its chunks' record batches (temporal ones only)."""
    out: dict[str, list] = {}
    for chunk in RrdReader(path).stream():
        if not chunk.is_static:
            out.setdefault(chunk.entity_path, []).append(chunk.to_record_batch())
    return out


def column(batches, name):
    return [v for b in batches for v in b.column(name).to_pylist()]


def test_rrd_holds_every_frame_and_every_scalar_of_the_dataset(dataset, tmp_path):
    out = tmp_path / "ds.rrd"
    proc = subprocess.run(
        [sys.executable, "-m", "robotlearn.scripts.cli", "dataset", "view", str(dataset), f"--rerun={out}"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert "2 episodes, 15 frames" in proc.stdout
    got = chunks(out)
    start = 0
    for e, n in enumerate(LENGTHS):
        base = f"/episode_{e:06d}"
        state = got[f"{base}/observation.state"]
        assert column(state, "frame_index") == list(range(n))
        assert column(state, "index") == list(range(start, start + n))
        timestamps = [t.total_seconds() if hasattr(t, "total_seconds") else t / 1e9 for t in column(state, "timestamp")]
        assert timestamps == pytest.approx([f / 10 for f in range(n)])
        values = np.array(column(state, "Scalars:scalars"))
        np.testing.assert_allclose(values, [expected_state(e, f, 3) for f in range(n)], rtol=1e-6)
        actions = np.array(column(got[f"{base}/action"], "Scalars:scalars"))
        np.testing.assert_allclose(actions, values + 0.5, rtol=1e-6)
        video = got[f"{base}/observation.images.top"]
        assert column(video, "frame_index") == list(range(n))  # one frame reference per frame
        assert column(got[f"{base}/task"], "TextDocument:text") == [[["task A", "task B"][e]]]
        start += n


def test_one_episode_only(dataset, tmp_path):
    from robotlearn.viewer import write_rrd

    summary = write_rrd(dataset, tmp_path / "one.rrd", episodes=[1])
    assert (summary.episodes, summary.frames) == (1, 9)
    assert sorted(chunks(summary.path)) == [
        f"/episode_000001/{k}" for k in ("action", "observation.images.top", "observation.state", "task")
    ]
