"""`robotlearn calibrate` as a person runs it: a subprocess on a pseudo-terminal, ENTER pressed at
each prompt, the arm a servo simulator on another pty. The calibration file it writes is then what
a later `connect()` uses, without prompting."""

import math
import os
import pty
import select
import subprocess
import sys
import time

import pytest

from robotlearn.motors import load_calibration
from robotlearn.motors.sim import ServoSimulator
from robotlearn.robots.so100_follower import SO100Follower, SO100FollowerConfig


class Terminal:
    """A command running on a pseudo-terminal: read what it prints, type keys."""

    def __init__(self, args, env):
        master, slave = pty.openpty()
        self.master, self.output = master, ""
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
        os.close(slave)

    def _read(self, timeout):
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            data = os.read(self.master, 4096)
        except OSError:  # EIO: the command exited and closed the terminal
            return None
        if not data:
            return None
        self.output += data.decode(errors="replace")
        return True

    def expect(self, text, timeout=30.0):
        """Wait until the command has printed `text`."""
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if time.monotonic() > deadline or self._read(0.1) is None:
                raise AssertionError(f"{text!r} never appeared; the terminal shows:\n{self.output}")

    def type(self, keys: str):
        os.write(self.master, keys.encode())

    def wait(self, timeout=30.0) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            self._read(0.1)
        while self._read(0.1):  # what is left to read
            pass
        os.close(self.master)
        return self.proc.wait(timeout=1)


@pytest.fixture
def arm():
    with ServoSimulator("feetech", {i: "sts3215" for i in range(1, 7)}) as sim:
        yield sim


def test_robotlearn_calibrate_with_key_presses_writes_the_file_connect_uses(arm, tmp_path, monkeypatch):
    env = {**os.environ, "ROBOTLEARN_CALIBRATION_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    term = Terminal(
        [
            sys.executable,
            "-m",
            "robotlearn.scripts.cli",
            "calibrate",
            "--robot.type=so100_follower",
            f"--robot.port={arm.port}",
            "--robot.id=left",
        ],
        env,
    )
    term.expect("Move every joint to the middle of its range of motion, then press ENTER")
    term.type("\n")
    term.expect("press ENTER to stop")
    for i in arm.servos:  # the person sweeps every joint through +-500 ticks around the middle
        arm.servo(i).motion = lambda t, i=i: 2048 + 500 * math.sin(30 * t + i)
    time.sleep(0.6)
    term.type("\n")
    assert term.wait() == 0, term.output
    path = tmp_path / "robots" / "so100_follower" / "left.json"
    assert f"Calibration saved to {path}" in term.output
    saved = load_calibration(path)
    assert (saved["wrist_roll"].range_min, saved["wrist_roll"].range_max) == (0, 4095)  # spins freely
    for joint in ("shoulder_pan", "elbow_flex", "gripper"):
        lo, hi = saved[joint].range_min, saved[joint].range_max
        assert 2047 - 502 <= lo < 1900 and 2200 < hi <= 2047 + 502, (joint, lo, hi)

    for i in arm.servos:
        arm.servo(i).motion = None
    monkeypatch.setattr("builtins.input", lambda *a: pytest.fail("connect() prompted"))
    robot = SO100Follower(SO100FollowerConfig(port=arm.port, id="left", calibration_dir=str(tmp_path)))
    robot.connect()
    assert robot.is_calibrated and robot.bus.calibration == saved
    assert set(robot.get_observation()) == set(robot.observation_features)
    robot.disconnect()


def test_robotlearn_calibrate_of_a_simulator_says_it_needs_none():
    proc = subprocess.run(
        [sys.executable, "-m", "robotlearn.scripts.cli", "calibrate", "--robot.type=sim_arm"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "robotlearn calibrate: sim_arm needs no calibration: only servo arms are calibrated"
