"""`robotlearn record` / `replay` / `teleoperate` run as real subprocesses on the simulated robots."""

import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("gym_pusht")

from robotlearn.datasets import LeRobotDataset

PUSHT = [
    "--robot.type=sim_pusht",
    "--robot.seed=0",
    "--teleop.type=scripted_pusht",
    "--dataset.episode_time_s=5",
    "--dataset.reset_time_s=0",
    "--dataset.fps=10",
    "--dataset.single_task=push the T",
    "--dataset.realtime=false",
    "--play_sounds=false",
]


def robotlearn(*args, check=True, timeout=120):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "robotlearn.scripts.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"robotlearn {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def test_record_writes_three_episodes_then_replay_reproduces_one_exactly(tmp_path):
    root = tmp_path / "pusht"
    proc = robotlearn("record", *PUSHT, f"--dataset.root={root}", "--dataset.num_episodes=3")
    # one summary line per episode, with timing
    assert proc.stdout.count("frames in") == 3 and "work" in proc.stdout

    ds = LeRobotDataset("local/recording", root=root)
    assert ds.meta.total_episodes == 3 and len(ds) == 150
    assert [e["length"] for e in ds.meta.episodes] == [50, 50, 50]
    assert ds.meta.features["observation.state"]["names"] == ["agent_x", "agent_y"]
    assert ds.meta.features["action"]["names"] == ["target_x", "target_y"]
    assert ds.meta.features["observation.images.top"]["dtype"] == "video"
    assert ds.meta.features["observation.environment_state"]["shape"] == [5]
    assert ds.meta.features["observation.capture_time"]["shape"] == [1]
    item = ds[60]
    assert item["episode_index"] == 1 and item["frame_index"] == 10 and item["task"] == "push the T"
    assert item["observation.images.top"].shape == (3, 96, 96)
    # the agent position is the first two entries of the full simulator state
    np.testing.assert_array_equal(item["observation.state"].numpy(), item["observation.environment_state"][:2].numpy())

    # capture times are measured seconds since the episode start, increasing (not the nominal 0.1 s steps:
    # this run is not real time)
    times = np.array([float(ds[i]["observation.capture_time"]) for i in range(50, 100)])
    assert times[0] == pytest.approx(0.0, abs=0.5) and np.all(np.diff(times) > 0)

    proc = robotlearn(
        "replay",
        "--robot.type=sim_pusht",
        f"--dataset.root={root}",
        "--dataset.episode=2",
        "--dataset.realtime=false",
        "--play_sounds=false",
    )
    assert "replayed 50 actions" in proc.stdout
    assert "max |observation.state error| = 0," in proc.stdout  # PushT is deterministic: exact replay
    assert "max |environment_state error| = 0" in proc.stdout


def test_resume_appends_episodes_and_refusing_to_overwrite_without_it(tmp_path):
    root = tmp_path / "pusht"
    robotlearn("record", *PUSHT, f"--dataset.root={root}", "--dataset.num_episodes=1")
    again = robotlearn("record", *PUSHT, f"--dataset.root={root}", "--dataset.num_episodes=1", check=False)
    assert again.returncode != 0 and "--resume" in again.stderr
    robotlearn("record", *PUSHT, f"--dataset.root={root}", "--dataset.num_episodes=2", "--resume")
    ds = LeRobotDataset("local/recording", root=root)
    assert ds.meta.total_episodes == 3 and len(ds) == 150
    # the resumed episodes are new episodes (different initial states), indexed after the first
    starts = [ds[i * 50]["observation.environment_state"].numpy() for i in range(3)]
    assert not np.array_equal(starts[0], starts[1]) and not np.array_equal(starts[1], starts[2])
    assert [int(ds[i * 50]["episode_index"]) for i in range(3)] == [0, 1, 2]


def test_record_sim_arm_with_scripted_leader_stores_joint_space_data(tmp_path):
    root = tmp_path / "arm"
    robotlearn(
        "record",
        "--robot.type=sim_arm",
        "--teleop.type=sim_arm_leader",
        f"--dataset.root={root}",
        "--dataset.num_episodes=1",
        "--dataset.episode_time_s=1",
        "--dataset.fps=20",
        "--dataset.video=false",
        "--dataset.single_task=wave",
        "--dataset.realtime=false",
        "--play_sounds=false",
    )
    ds = LeRobotDataset("local/recording", root=root)
    assert len(ds) == 20
    names = ["shoulder.pos", "elbow.pos", "wrist.pos"]
    assert ds.meta.features["action"]["names"] == names and ds.meta.features["observation.state"]["names"] == names
    assert ds.meta.features["observation.images.top"]["dtype"] == "image"
    # the follower tracks the leader's goals with a speed limit of 180 deg/s / 30 steps/s = 6 deg per step
    actions = np.stack([ds[i]["action"].numpy() for i in range(20)])
    states = np.stack([ds[i]["observation.state"].numpy() for i in range(20)])
    np.testing.assert_allclose(states[1:] - states[:-1], np.clip(actions[:-1] - states[:-1], -6, 6), atol=1e-4)


def test_teleoperate_runs_for_its_duration_and_prints_timing():
    proc = robotlearn(
        "teleoperate",
        "--robot.type=sim_arm",
        "--teleop.type=sim_arm_leader",
        "--fps=50",
        "--duration_s=0.4",
        "--realtime=false",
    )
    assert "teleoperate: 20 frames" in proc.stdout


def test_help_explains_every_flag():
    out = robotlearn("record", "--help").stdout
    for flag in (
        "--robot.type",
        "--teleop.type",
        "--dataset.root",
        "--dataset.num_episodes",
        "--dataset.episode_time_s",
        "--dataset.reset_time_s",
        "--dataset.fps",
        "--dataset.single_task",
        "--dataset.video",
        "--dataset.vcodec",
        "--dataset.realtime",
        "--resume",
        "--display_data",
        "--play_sounds",
        "--policy.path",
    ):
        assert flag in out
    assert "--dataset.episode" in robotlearn("replay", "--help").stdout
    assert "--duration_s" in robotlearn("teleoperate", "--help").stdout


def test_bad_flags_fail_with_a_message_naming_the_fix(tmp_path):
    proc = robotlearn(
        "record",
        "--robot.type=sim_pusht",
        "--teleop.type=scripted_pusht",
        f"--dataset.root={tmp_path}/x",
        "--play_sounds=false",
        check=False,
    )
    assert proc.returncode != 0 and "--dataset.single_task" in proc.stderr
    proc = robotlearn("record", "--robot.type=no_such_robot", "--dataset.single_task=x", check=False)
    assert proc.returncode != 0 and "sim_pusht" in proc.stderr  # lists the known types
    proc = robotlearn(
        "record",
        "--robot.type=sim_pusht",
        "--robot.port=/dev/ttyUSB0",
        "--teleop.type=scripted_pusht",
        "--dataset.single_task=x",
        check=False,
    )
    assert proc.returncode != 0 and "--robot.port" in proc.stderr


def test_keys_in_a_real_terminal_end_rerecord_and_stop_episodes(tmp_path):
    """`robotlearn record` with a pseudo-terminal as stdin: right arrow ends an episode early (saved),
    left arrow re-records it (discarded), escape stops the session (the episode so far is saved)."""
    import select
    import time

    root = tmp_path / "keys"
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "robotlearn.scripts.cli",
            "record",
            "--robot.type=sim_pusht",
            "--robot.seed=0",
            "--teleop.type=scripted_pusht",
            f"--dataset.root={root}",
            "--dataset.num_episodes=5",
            "--dataset.episode_time_s=60",
            "--dataset.reset_time_s=0",
            "--dataset.fps=10",
            "--dataset.single_task=push the T",
            "--play_sounds=false",
        ],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    os.close(slave)
    out = b""

    def wait_for(text, count=1, timeout=60.0):
        nonlocal out
        deadline = time.monotonic() + timeout
        while out.decode(errors="replace").count(text) < count:
            ready, _, _ = select.select([proc.stdout.fileno()], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(proc.stdout.fileno(), 4096) if ready else b""
            if not chunk:
                proc.kill()
                raise AssertionError(f"never saw {text!r} x{count}:\n{out.decode(errors='replace')}")
            out += chunk

    try:
        wait_for("Recording episode 0")
        time.sleep(0.6)
        os.write(master, b"\x1b[C")  # right: end episode 0 early, keep it
        wait_for("Recording episode 1")
        time.sleep(0.6)
        os.write(master, b"\x1b[D")  # left: discard and record episode 1 again
        wait_for("Re-recording episode")
        wait_for("Recording episode 1", count=2)
        time.sleep(0.6)
        os.write(master, b"\x1b")  # escape: stop
        assert proc.wait(timeout=60) == 0, out.decode(errors="replace")
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    ds = LeRobotDataset("local/recording", root=root)
    lengths = [e["length"] for e in ds.meta.episodes]
    assert len(lengths) == 2 and all(2 <= n < 100 for n in lengths), lengths
