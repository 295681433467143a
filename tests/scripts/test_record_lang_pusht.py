"""`robotlearn record` on the language PushT benchmark: one episode per task, each frame's task its
episode's instruction."""

import subprocess
import sys

import pytest

pytest.importorskip("pymunk")

from robotlearn.datasets import LeRobotDataset
from robotlearn.envs.lang_pusht import instructions


def test_record_cycles_through_the_tasks_and_stores_each_instruction(tmp_path):
    root = tmp_path / "lang"
    args = [
        "--robot.type=sim_lang_pusht",
        "--robot.task=red_top_left,blue_bottom_right",
        "--robot.seed=0",
        "--teleop.type=scripted_lang_pusht",
        f"--dataset.root={root}",
        "--dataset.num_episodes=3",
        "--dataset.episode_time_s=30",
        "--dataset.reset_time_s=0",
        "--dataset.fps=10",
        "--dataset.video=false",
        "--dataset.realtime=false",
        "--play_sounds=false",
    ]  # no --dataset.single_task: the robot names each episode's instruction
    proc = subprocess.run(
        [sys.executable, "-m", "robotlearn.scripts.cli", "record", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr

    ds = LeRobotDataset("local/recording", root=root)
    assert ds.meta.total_episodes == 3
    lengths = [e["length"] for e in ds.meta.episodes]
    assert all(n < 300 for n in lengths)  # the expert succeeded before the time was up (end on success)
    starts = [sum(lengths[:i]) for i in range(3)]
    tasks = [ds[s]["task"] for s in starts]
    # episodes 0, 1, 2 record tasks 0, 1, 0, each with one of its training instructions
    assert tasks[0] in instructions("red_top_left") and tasks[2] in instructions("red_top_left")
    assert tasks[1] in instructions("blue_bottom_right")
    assert ds[starts[1] + lengths[1] - 1]["task"] == tasks[1]  # the whole episode carries it
    assert set(ds.meta.tasks) == set(tasks)
    assert ds.meta.features["observation.environment_state"]["shape"] == [11]
    assert ds.meta.features["observation.state"]["names"] == ["agent_x", "agent_y"]
