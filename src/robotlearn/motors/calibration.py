"""Calibration: where each joint's zero and range of motion are, stored as JSON per physical unit.

A calibration is `{motor_name: MotorCalibration}`. It is written to
`<calibration dir>/<robots|teleoperators>/<type>/<id>.json`, where the directory is
`$ROBOTLEARN_CALIBRATION_DIR` if set, else `~/.cache/robotlearn/calibration`. The `id` is the
robot's `--robot.id`, so one file belongs to one arm and is found again after a restart.

File format (same keys as the reference implementation's files, so existing files load):

    {"shoulder_pan": {"id": 1, "drive_mode": 0, "homing_offset": -1021,
                      "range_min": 760, "range_max": 3310}, ...}

Procedure (driven by `robotlearn calibrate`, see `robotlearn.robots.calibrate`): with torque off,
the user puts every joint in the middle of its range; the bus writes homing offsets so that pose
reads half a turn (2047 ticks, `MotorsBus.set_half_turn_homings`); then the user moves each joint
through its whole range while the bus records the min/max ticks
(`MotorsBus.record_ranges_of_motion`); `calibration_from_ranges` turns these into the calibration.
This module holds no terminal interaction and does not import the bus.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from robotlearn.motors.motor import CalibrationError, Motor, MotorNormMode

CALIBRATION_DIR_ENV = "ROBOTLEARN_CALIBRATION_DIR"


@dataclass
class MotorCalibration:
    """Calibration of one motor, in raw encoder ticks.

    homing_offset: value written to the motor's Homing_Offset register.
    range_min/range_max: extreme positions reached while calibrating (after the offset).
    drive_mode: 1 inverts the direction of the normalized value.
    """

    id: int
    drive_mode: int
    homing_offset: int
    range_min: int
    range_max: int


def calibration_dir() -> Path:
    """Root calibration directory: `$ROBOTLEARN_CALIBRATION_DIR` or `~/.cache/robotlearn/calibration`."""
    env = os.environ.get(CALIBRATION_DIR_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "robotlearn" / "calibration"


def calibration_path(kind: str, type_name: str, unit_id: str | None, root: str | Path | None = None) -> Path:
    """File of one unit: `<root>/<kind>/<type_name>/<unit_id>.json`; kind is "robots" or "teleoperators".

    `unit_id=None` uses "default"; give each physical arm its own id when you own several.
    """
    if kind not in ("robots", "teleoperators"):
        raise ValueError(f"kind must be 'robots' or 'teleoperators', got {kind!r}")
    base = Path(root).expanduser() if root is not None else calibration_dir()
    return base / kind / type_name / f"{unit_id or 'default'}.json"


def save_calibration(path: str | Path, calibration: dict[str, MotorCalibration]) -> None:
    """Write the calibration as JSON atomically (a crash never leaves a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({name: asdict(c) for name, c in calibration.items()}, indent=4) + "\n")
    os.replace(tmp, path)


def load_calibration(path: str | Path) -> dict[str, MotorCalibration]:
    """Read a calibration file; CalibrationError naming the file and field if it is malformed."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise CalibrationError(
            f"{path}: calibration file not found. Write it with `robotlearn calibrate` (see docs/hardware.md)."
        ) from None
    except json.JSONDecodeError as e:
        raise CalibrationError(
            f"{path}: not valid JSON ({e}). Delete it and run `robotlearn calibrate` again."
        ) from None
    if not isinstance(data, dict):
        raise CalibrationError(f"{path}: expected a JSON object {{motor_name: {{...}}}}, got {type(data).__name__}")
    out = {}
    for name, entry in data.items():
        fields = ("id", "drive_mode", "homing_offset", "range_min", "range_max")
        if not isinstance(entry, dict) or any(not isinstance(entry.get(f), int) for f in fields):
            raise CalibrationError(f"{path}: motor {name!r} must have integer fields {list(fields)}, got {entry!r}")
        out[name] = MotorCalibration(**{f: entry[f] for f in fields})
    return out


def check_calibration(calibration: dict[str, MotorCalibration], motors: dict, source: str) -> None:
    """Raise CalibrationError if the calibration does not cover exactly these motors/IDs."""
    missing = sorted(set(motors) - set(calibration))
    extra = sorted(set(calibration) - set(motors))
    if missing or extra:
        raise CalibrationError(
            f"{source}: calibration motors do not match the bus (missing {missing}, unexpected {extra}). Recalibrate."
        )
    for name, cal in calibration.items():
        if cal.id != motors[name].id:
            raise CalibrationError(
                f"{source}: motor {name!r} has id {cal.id} in the calibration but {motors[name].id} on the bus. Recalibrate."
            )
        if cal.range_max <= cal.range_min:
            raise CalibrationError(
                f"{source}: motor {name!r} has range_min {cal.range_min} >= range_max {cal.range_max}. Recalibrate and move the joint through its whole range."
            )


def normalize(raw: float, cal: MotorCalibration, mode: MotorNormMode, resolution: int) -> float:
    """Raw ticks -> the motor's normalized unit (not clipped: values past the range read past ±100).

    Degrees use (resolution - 1) ticks per 360°, the convention of the reference implementation,
    so joint values match datasets recorded with it.
    """
    if mode == MotorNormMode.RAW:
        return float(raw)
    lo, hi = cal.range_min, cal.range_max
    if mode == MotorNormMode.DEGREES:
        value = (raw - (lo + hi) / 2) * 360.0 / (resolution - 1)
    elif mode == MotorNormMode.RANGE_M100_100:
        value = (raw - lo) / (hi - lo) * 200.0 - 100.0
    elif mode == MotorNormMode.RANGE_0_100:
        value = (raw - lo) / (hi - lo) * 100.0
    else:
        raise ValueError(f"unknown norm mode {mode!r}")
    if cal.drive_mode:
        value = 100.0 - value if mode == MotorNormMode.RANGE_0_100 else -value
    return value


def unnormalize(value: float, cal: MotorCalibration, mode: MotorNormMode, resolution: int) -> int:
    """Normalized unit -> raw ticks, clipped to the calibrated range so a goal never leaves it."""
    if mode == MotorNormMode.RAW:
        return int(round(value))
    lo, hi = cal.range_min, cal.range_max
    if cal.drive_mode:
        value = 100.0 - value if mode == MotorNormMode.RANGE_0_100 else -value
    if mode == MotorNormMode.DEGREES:
        raw = value * (resolution - 1) / 360.0 + (lo + hi) / 2
    elif mode == MotorNormMode.RANGE_M100_100:
        raw = (value + 100.0) / 200.0 * (hi - lo) + lo
    elif mode == MotorNormMode.RANGE_0_100:
        raw = value / 100.0 * (hi - lo) + lo
    else:
        raise ValueError(f"unknown norm mode {mode!r}")
    return int(round(min(max(raw, lo), hi)))


def calibration_from_ranges(
    motors: dict[str, Motor],
    offsets: dict[str, int],
    mins: dict[str, int],
    maxes: dict[str, int],
    full_turn_motors: tuple[str, ...] = (),
    resolution: int = 4096,
    source: str = "bus",
) -> dict[str, MotorCalibration]:
    """The calibration of `motors` from what the procedure measured (all values raw ticks).

    Args:
        motors: name -> Motor, every motor of the bus.
        offsets: name -> homing offset written while the joints were held mid-range.
        mins/maxes: name -> extreme positions recorded while the joints were swept, for every
            motor not in `full_turn_motors` (those spin freely and get the whole encoder range).
        resolution: encoder ticks per turn.
        source: where the values come from (the port), for the message.
    Raises:
        CalibrationError naming the joints that never moved while the ranges were recorded.
    """
    ranged = [m for m in motors if m not in full_turn_motors]
    still = [m for m in ranged if mins[m] == maxes[m]]
    if still:
        raise CalibrationError(
            f"{source}: joints {still} did not move while recording. Move every joint through its full range, then calibrate again."
        )
    calibration = {}
    for name, motor in motors.items():
        lo, hi = (0, resolution - 1) if name in full_turn_motors else (mins[name], maxes[name])
        calibration[name] = MotorCalibration(
            id=motor.id, drive_mode=0, homing_offset=offsets[name], range_min=lo, range_max=hi
        )
    return calibration
