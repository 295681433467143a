"""The actor writes every finished episode to a LeRobotDataset as it goes: an actor killed with
SIGKILL loses at most the episode in progress, and a restarted one appends to the same dataset."""

import os
import random
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from robotlearn.datasets import LeRobotDataset
from robotlearn.datasets.tools.validate import validate
from robotlearn.rl.learner import Learner, LearnerConfig
from robotlearn.rl.streams import StepLog


@pytest.fixture(autouse=True)
def _no_stray_token(monkeypatch):
    monkeypatch.delenv("ROBOTLEARN_TOKEN", raising=False)


def start_actor(address: str, root, *args: str) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "robotlearn.scripts.cli", "rl-actor", f"--learner={address}",
         "--max_episode_steps=20", f"--dataset.root={root}", "--dataset.task=swing up", *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()
    return proc, lines


def complete_episodes(run_dir) -> list[np.ndarray]:
    """The actions of every episode the learner received whole (with its final observation), in order."""
    episodes, current = [], {}
    for _, m in StepLog(run_dir / "steps").replay():
        current.setdefault(m["episode"], []).append(m["steps"]["action"])
        if m["final"] is not None:
            episodes.append(np.concatenate(current.pop(m["episode"])))
    return episodes


def test_a_killed_actor_keeps_every_finished_episode_and_resumes_the_dataset(tmp_path):
    root = tmp_path / "ds"
    learner = Learner(LearnerConfig(output_dir=str(tmp_path / "rl"), port=0, learning_starts=10**9), token=b"").start()
    try:
        proc, lines = start_actor(learner.address, root)
        deadline = time.monotonic() + 60
        while sum(x.startswith("episode:") for x in lines) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(random.uniform(0, 0.3))  # anywhere: mid-episode, mid-save
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        printed = sum(x.startswith("episode:") for x in lines)
        assert printed >= 3, "".join(lines)
        report = validate(root)
        assert all(p.fix for p in report.problems), report.lines()  # at most a crash's repairable leftovers
        saved = LeRobotDataset("local/rl_run", root=root).num_episodes
        assert printed - 1 <= saved <= printed + 1  # the one in progress (or being saved) at most
        proc, lines = start_actor(learner.address, root, "--steps=40")
        assert proc.wait(timeout=120) == 0, "".join(lines)
    finally:
        if proc.poll() is None:
            proc.kill()
        learner.stop()
    assert validate(root).ok
    ds = LeRobotDataset("local/rl_run", root=root)
    assert ds.num_episodes == saved + 2 and len(ds) == 20 * (saved + 2)
    # each saved episode is one the learner received whole, frame for frame, in order
    whole = complete_episodes(tmp_path / "rl")
    actions = np.stack([ds[i]["action"].numpy() for i in range(len(ds))]).reshape(saved + 2, 20, 1)
    first_run = whole[: len(whole) - 2]
    np.testing.assert_array_equal(actions[:saved], np.stack(first_run[:saved]))
    np.testing.assert_array_equal(actions[saved:], np.stack(whole[-2:]))
    assert ds[0]["task"] == "swing up" and not bool(ds[0]["intervention"])
