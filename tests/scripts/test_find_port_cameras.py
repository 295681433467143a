"""`robotlearn find-port` and `robotlearn find-cameras`, run as users run them (subprocesses)."""

import subprocess
import sys

import numpy as np
import pytest

from robotlearn.errors import DeviceError
from robotlearn.motors.ports import find_removed_port


def run(*args, stdin=""):
    return subprocess.run(
        [sys.executable, "-m", "robotlearn.scripts.cli", *args], input=stdin, capture_output=True, text=True, timeout=60
    )


def test_help_explains_flags():
    out = run("find-port", "--help")
    assert out.returncode == 0 and "--list" in out.stdout and "unplug" in out.stdout.lower()
    out = run("find-cameras", "--help")
    assert out.returncode == 0 and "--max_index" in out.stdout and "--output_dir" in out.stdout


def test_list_ports_non_interactive():
    out = run("find-port", "--list")
    assert out.returncode == 0 and out.stdout.strip()  # ports, or "no serial ports found"


def test_interactive_find_port_reports_when_nothing_was_unplugged():
    out = run("find-port", "--wait_s=0", stdin="\n")
    assert out.returncode == 2 and "robotlearn find-port: no serial port disappeared" in out.stderr
    assert "Traceback" not in out.stderr


def test_find_removed_port():
    assert find_removed_port(["/dev/ttyACM0", "/dev/ttyACM1"], ["/dev/ttyACM1"]) == "/dev/ttyACM0"
    with pytest.raises(DeviceError, match="several ports"):
        find_removed_port(["/dev/a", "/dev/b"], [])


def test_find_cameras_lists_a_video_source_and_saves_a_frame(tmp_path):
    cv2 = pytest.importorskip("cv2")
    video = tmp_path / "cam.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 15, (40, 30))
    for _ in range(3):
        writer.write(np.full((30, 40, 3), 128, np.uint8))
    writer.release()
    out = run("find-cameras", "--max_index=0", f"--paths={video}", f"--output_dir={tmp_path / 'shots'}")
    assert out.returncode == 0, out.stderr
    line = next(row for row in out.stdout.splitlines() if "cam.mp4" in row)
    assert line.split()[1:4] == ["40", "30", "15.0"]
    assert cv2.imread(str(tmp_path / "shots" / "cam.mp4.png")).shape == (30, 40, 3)
