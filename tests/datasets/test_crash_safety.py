"""A recording killed with SIGKILL at any instant leaves a readable dataset holding every saved episode."""

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np

from robotlearn.datasets import LeRobotDataset
from robotlearn.datasets.synthetic import expected_level, expected_state, synthetic_frame

CAMS = {"top": (16, 16), "side": (16, 32)}

RECORDER = textwrap.dedent(
    """
    import sys
    from robotlearn.datasets import LeRobotDataset
    from robotlearn.datasets.synthetic import synthetic_features, synthetic_frame
    root, resume = sys.argv[1], sys.argv[2] == "1"
    cams = {"top": (16, 16), "side": (16, 32)}
    if resume:
        ds = LeRobotDataset.resume("crash/test", root)
    else:
        # tiny size limits so that kills also land in data/video/episode file rollovers
        ds = LeRobotDataset.create("crash/test", fps=10, features=synthetic_features(2, cams), root=root,
                                   data_files_size_in_mb=0.004, video_files_size_in_mb=0.01, chunks_size=3)
    e = ds.meta.total_episodes
    print("READY", flush=True)
    while True:
        for f in range(5 + e % 4):
            ds.add_frame(synthetic_frame(e, f, 2, cams, f"task {e % 3}"))
        ds.save_episode()
        print(f"SAVED {e}", flush=True)
        e += 1
    """
)


def start(root, resume):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", RECORDER, str(root), "1" if resume else "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def kill_after(proc, seconds):
    # Time from when recording starts (imports can take seconds on a loaded machine).
    first = proc.stdout.readline()
    assert first.strip() == "READY", first + proc.stderr.read()
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    saved = [int(line.split()[1]) for line in out.splitlines() if line.startswith("SAVED")]
    return saved, err


def check_dataset(root, saved_count):
    ds = LeRobotDataset("crash/test", root=root, return_uint8=True)
    n = ds.meta.total_episodes
    # every episode whose save_episode() returned is there; at most one more (killed between commit and print)
    assert saved_count <= n <= saved_count + 1, (saved_count, n)
    for i in range(len(ds)):
        item = ds[i]
        e, f = int(item["episode_index"]), int(item["frame_index"])
        np.testing.assert_array_equal(item["observation.state"].numpy(), expected_state(e, f, 2))
        for c, cam in enumerate(CAMS):
            assert abs(int(item[f"observation.images.{cam}"][0, 0, 0]) - expected_level(e, f, c)) <= 2
        assert item["task"] == f"task {e % 3}"
    lengths = [ep["length"] for ep in ds.meta.episodes]
    assert lengths == [5 + e % 4 for e in range(n)]
    return n


def test_sigkill_at_random_instants_never_loses_saved_episodes(tmp_path):
    rng = random.Random(1234)
    root = tmp_path / "ds"
    total_saved = 0
    episodes_after_each_kill = []
    for round_ in range(12):
        resume = (root / "meta" / "info.json").exists()
        proc = start(root, resume)
        saved, err = kill_after(proc, rng.uniform(0.05, 1.5) if round_ else 1.5)
        if not (root / "meta" / "info.json").exists():
            assert not saved
            continue
        assert "Traceback" not in err, err
        total_saved = check_dataset(root, (saved[-1] + 1) if saved else total_saved)
        episodes_after_each_kill.append(total_saved)
    # create() writes meta/info.json before READY, so every kill (the first one included) left a
    # dataset to check, and no kill took away an episode an earlier round had saved.
    assert len(episodes_after_each_kill) == 12, episodes_after_each_kill
    assert episodes_after_each_kill == sorted(episodes_after_each_kill), episodes_after_each_kill
    assert total_saved >= 5  # the recorder made real progress between kills


def test_recording_continues_after_a_kill_with_resume(tmp_path):
    root = tmp_path / "ds"
    proc = start(root, False)
    saved, _ = kill_after(proc, 2.0)
    assert saved, "the recorder saved nothing in 2 s"
    ds = LeRobotDataset.resume("crash/test", root)
    e = ds.meta.total_episodes
    for f in range(5 + e % 4):
        ds.add_frame(synthetic_frame(e, f, 2, CAMS, f"task {e % 3}"))
    ds.save_episode()
    ds.finalize()
    assert check_dataset(root, e + 1) == e + 1
