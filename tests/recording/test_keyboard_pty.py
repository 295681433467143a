"""The key listener and the keyboard teleoperator read a real pseudo-terminal in a real subprocess."""

import os
import select
import subprocess
import sys
import time

import pytest

LISTENER = r"""
import sys, time
from robotlearn.recording import init_keyboard_listener
def print(*parts, flush=True):  # one write per line, so the listener thread's messages never split one
    sys.stdout.write(" ".join(map(str, parts)) + "\n"); sys.stdout.flush()
listener, events = init_keyboard_listener()
print("active", listener.active, flush=True)
seen = set()
deadline = time.time() + 20
while time.time() < deadline and not events["stop_recording"]:
    for k, v in list(events.items()):
        if v and k not in seen and k != "stop_recording":
            seen.add(k)
            print("event", k, flush=True)
    if events["exit_early"] and events["rerecord_episode"]:
        events["exit_early"] = False  # consumed, as record_loop does
    time.sleep(0.01)
print("event stop_recording", events["stop_recording"], flush=True)
listener.stop()
import termios
print("restored_icanon", bool(termios.tcgetattr(0)[3] & termios.ICANON), flush=True)
"""

TELEOP = r"""
import time
from robotlearn.teleoperators.keyboard import KeyboardTeleop, KeyboardTeleopConfig
t = KeyboardTeleop(KeyboardTeleopConfig(step=5.0))
t.connect()
print("reading", t.reading_terminal, flush=True)
deadline = time.time() + 20
last = None
while time.time() < deadline:
    a = t.get_action()
    if a != last:
        print("action", a["target_x"], a["target_y"], flush=True)
        last = a
    if a["target_y"] <= 246.0:
        break
    time.sleep(0.01)
t.disconnect()
"""


def spawn_on_pty(code):
    """Run `code` with a pseudo-terminal as stdin; returns (process, master fd)."""
    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True
    )
    os.close(slave)
    proc.pending = b""
    return proc, master


def read_line(proc, timeout=15.0):
    """Next stdout line, read unbuffered from the pipe (select() would not see Python's buffer)."""
    deadline = time.monotonic() + timeout
    while b"\n" not in proc.pending:
        ready, _, _ = select.select([proc.stdout.fileno()], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(proc.stdout.fileno(), 4096) if ready else b""
        if not chunk:
            proc.kill()
            raise AssertionError(f"no output within {timeout}s; stderr: {proc.stderr.read().decode()}")
        proc.pending += chunk
    line, _, proc.pending = proc.pending.partition(b"\n")
    line = line.decode().strip()
    if not line or line.startswith("[keyboard]"):  # the listener's own messages to the operator
        return read_line(proc, max(0.1, deadline - time.monotonic()))
    return line


@pytest.mark.timeout(60)
def test_arrow_keys_and_escape_set_the_recording_events():
    proc, master = spawn_on_pty(LISTENER)
    try:
        assert read_line(proc) == "active True"
        os.write(master, b"\x1b[C")  # right arrow
        assert read_line(proc) == "event exit_early"
        os.write(master, b"\x1b[D")  # left arrow
        assert read_line(proc) == "event rerecord_episode"
        time.sleep(0.2)
        os.write(master, b"\x1b")  # lone escape key
        assert read_line(proc) == "event stop_recording True"
        assert read_line(proc) == "restored_icanon True"  # the terminal is back in line mode
        assert proc.wait(timeout=10) == 0
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()


@pytest.mark.timeout(60)
def test_letter_keys_work_and_no_terminal_means_a_silent_no_op_listener():
    proc, master = spawn_on_pty(LISTENER)
    try:
        assert read_line(proc) == "active True"
        os.write(master, b"q")
        assert read_line(proc) == "event stop_recording True"
    finally:
        os.close(master)
        proc.wait(timeout=10)
    out = subprocess.run(
        [sys.executable, "-c", LISTENER.replace("deadline = time.time() + 20", "deadline = time.time() + 0.2")],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.stdout.splitlines()[0] == "active False"


@pytest.mark.timeout(60)
def test_keyboard_teleop_moves_its_target_with_arrow_keys():
    proc, master = spawn_on_pty(TELEOP)
    try:
        assert read_line(proc) == "reading True"
        assert read_line(proc) == "action 256.0 256.0"
        os.write(master, b"\x1b[C")
        assert read_line(proc) == "action 261.0 256.0"
        os.write(master, b"\x1b[A\x1b[A")  # two presses in one write: up = -y
        lines = [read_line(proc)]
        if lines[-1] != "action 261.0 246.0":
            lines.append(read_line(proc))
        assert lines[-1] == "action 261.0 246.0"
        assert proc.wait(timeout=10) == 0
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
