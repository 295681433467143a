"""The calibration wizard behind `robotlearn calibrate`: prompts a person through calibrating an arm.

    from robotlearn.robots.calibrate import calibrate_device
    calibrate_device(SO100Follower(SO100FollowerConfig(port="/dev/ttyACM0", id="arm")))

The device (a follower arm or a leader arm, see `servo_device.ServoBusDevice`) does the
non-interactive steps; this wizard asks the person at each step and says what happened:

1. torque off (`begin_calibration`), then "move every joint to the middle of its range";
2. ENTER: homing offsets written so that pose reads half a turn (`set_homing`);
3. "move each joint through its whole range": positions are recorded (`record_ranges`, in a
   background thread) until ENTER;
4. the calibration is written to the motors and to the device's calibration file
   (`finish_calibration`), which later `connect()` calls load.

`ask` and `say` default to the terminal (`input`, `print`); tests and GUIs pass their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from robotlearn.errors import ConfigError
from robotlearn.robots.servo_device import ServoBusDevice


def _ranges_table(mins: dict[str, int], maxes: dict[str, int]) -> str:
    width = max((len(m) for m in mins), default=5)
    rows = [f"  {'joint'.ljust(width)}   min    max"]
    rows += [f"  {m.ljust(width)}  {mins[m]:5d}  {maxes[m]:5d}" for m in mins]
    return "\n".join(rows)


def calibrate_device(
    device, ask: Callable[[str], str] = input, say: Callable[[str], None] = print, poll_s: float = 0.02
) -> Path:
    """Calibrate `device` interactively and save its calibration file; returns the file's path.

    Args:
        device: a follower or leader arm (a `ServoBusDevice`). If it is not connected it is
            connected without calibration first and disconnected at the end.
        ask: shows a prompt and waits for the person (returns when ENTER is pressed).
        say: shows a message.
        poll_s: interval between position reads while ranges are recorded, seconds.
    Raises:
        ConfigError if the device has no calibration procedure (e.g. a simulator);
        CalibrationError if a joint did not move while ranges were recorded; the bus's errors
        (PortNotFoundError, MotorNotFoundError, ...) if the arm cannot be reached.
    """
    if not isinstance(device, ServoBusDevice):
        raise ConfigError(
            f"{getattr(device, 'name', type(device).__name__)} needs no calibration: only servo arms are calibrated"
        )
    opened_here = not device.is_connected
    if opened_here:
        device.connect(calibrate=False)
    try:
        say(f"Calibrating {device.name} (id {device.config.id!r}) on {device.config.port}")
        device.begin_calibration()
        ask("Move every joint to the middle of its range of motion, then press ENTER...")
        offsets = device.set_homing()
        free = f" except {list(device.full_turn_motors)}" if device.full_turn_motors else ""
        stop = threading.Event()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="calibration-ranges") as pool:
            recording = pool.submit(device.record_ranges, stop.is_set, poll_s)
            try:
                ask(
                    f"Now move each joint{free} through its entire range of motion. Recording positions; press ENTER to stop..."
                )
            finally:
                stop.set()
            mins, maxes = recording.result()
        say("Recorded ranges (raw encoder ticks):\n" + _ranges_table(mins, maxes))
        device.finish_calibration(offsets, mins, maxes)
        say(f"Calibration saved to {device.calibration_fpath}")
    finally:
        if opened_here and device.is_connected:
            device.disconnect()
    return device.calibration_fpath
