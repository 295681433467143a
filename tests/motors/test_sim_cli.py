"""The simulator as users run it: a separate process printing a pty path."""

import subprocess
import sys

from robotlearn.motors import FeetechMotorsBus, Motor


def test_sim_process_serves_a_bus():
    proc = subprocess.Popen(
        [sys.executable, "-m", "robotlearn.motors.sim", "--protocol=feetech", "--ids=1,2", "--motion=sine"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        port = proc.stdout.readline().strip()
        assert port.startswith("/dev/"), proc.stderr.read()
        bus = FeetechMotorsBus(port, {"a": Motor(1, "sts3215"), "b": Motor(2, "sts3215")}, timeout_s=0.5)
        bus.connect()
        first = bus.sync_read("Present_Position", normalize=False)
        assert set(first) == {"a", "b"} and all(1448 <= v <= 2648 for v in first.values())  # 2048 +- 600 sway
        bus.disconnect()
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def test_sim_help():
    out = subprocess.run(
        [sys.executable, "-m", "robotlearn.motors.sim", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--protocol" in out and "--ids" in out and "--motion" in out
