"""`record --display_data`: true logs the live loop to a rerun viewer, save:PATH writes an .rrd with no display."""

import subprocess
import sys

import pytest

pytest.importorskip("gym_pusht")
pytest.importorskip("rerun")
from rerun.chunk import RrdReader

from robotlearn.configs import ConfigError
from robotlearn.datasets import LeRobotDataset
from robotlearn.recording.session import RecordConfig, display_target


def test_display_data_values():
    assert display_target("false") == (False, None)
    assert display_target("true") == (True, None)
    assert display_target(True) == (True, None)
    assert display_target("save:out/run.rrd") == (True, "out/run.rrd")
    with pytest.raises(ConfigError, match="save:PATH"):
        RecordConfig(display_data="maybe")


def test_record_saves_every_recorded_frame_to_an_rrd(tmp_path):
    rrd = tmp_path / "live" / "session.rrd"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "robotlearn.scripts.cli",
            "record",
            "--robot.type=sim_pusht",
            "--robot.seed=0",
            "--teleop.type=scripted_pusht",
            "--dataset.num_episodes=2",
            "--dataset.episode_time_s=1.5",
            "--dataset.reset_time_s=0",
            "--dataset.fps=10",
            "--dataset.single_task=push the T",
            "--dataset.realtime=false",
            "--dataset.end_on_success=false",
            f"--dataset.root={tmp_path / 'ds'}",
            "--play_sounds=false",
            f"--display_data=save:{rrd}",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    frames = LeRobotDataset("local/recording", root=tmp_path / "ds").meta.total_frames
    assert frames == 30
    steps: dict[str, list[int]] = {}
    for chunk in RrdReader(rrd).stream():
        if not chunk.is_static and "step" in chunk.timeline_names:
            steps.setdefault(chunk.entity_path, []).extend(chunk.to_record_batch().column("step").to_pylist())
    camera = [e for e in steps if e.startswith("/observation.") and "top" in e]
    assert camera, sorted(steps)
    for entity in (camera[0], "/observation.agent_x", "/action.target_x"):
        assert sorted(steps[entity]) == list(range(frames)), entity  # one row per recorded frame
