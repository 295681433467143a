"""Calibration files, normalization and the bus's calibration steps (through the servo simulator).

The interactive wizard that drives these steps is tested in tests/robots/test_calibrate.py."""

import json
import math

import pytest

from robotlearn.motors import (
    CalibrationError,
    FeetechMotorsBus,
    Motor,
    MotorCalibration,
    MotorNormMode,
    calibration_from_ranges,
    calibration_path,
    load_calibration,
    save_calibration,
)
from robotlearn.motors.calibration import normalize, unnormalize
from robotlearn.motors.sim import ServoSimulator


def test_save_load_round_trip(tmp_path):
    cal = {"pan": MotorCalibration(1, 0, -1021, 760, 3310), "grip": MotorCalibration(6, 0, 12, 2000, 3400)}
    path = tmp_path / "robots" / "so100_follower" / "arm.json"
    save_calibration(path, cal)
    assert load_calibration(path) == cal
    assert json.loads(path.read_text())["pan"] == {
        "id": 1,
        "drive_mode": 0,
        "homing_offset": -1021,
        "range_min": 760,
        "range_max": 3310,
    }


def test_calibration_dir_env_override(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTLEARN_CALIBRATION_DIR", str(tmp_path))
    assert calibration_path("robots", "so101_follower", "left") == tmp_path / "robots" / "so101_follower" / "left.json"
    assert calibration_path("teleoperators", "koch_leader", None).name == "default.json"
    monkeypatch.delenv("ROBOTLEARN_CALIBRATION_DIR")
    assert ".cache/robotlearn/calibration/robots" in str(calibration_path("robots", "x", "y"))


def test_malformed_files_name_the_file_and_field(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"pan": {"id": 1, "drive_mode": 0, "homing_offset": "x", "range_min": 0, "range_max": 10}}')
    with pytest.raises(CalibrationError, match=r"bad.json.*'pan'"):
        load_calibration(path)
    path.write_text("{not json")
    with pytest.raises(CalibrationError, match="not valid JSON"):
        load_calibration(path)
    with pytest.raises(CalibrationError, match="not found"):
        load_calibration(tmp_path / "missing.json")


@pytest.mark.parametrize("mode", list(MotorNormMode))
@pytest.mark.parametrize("drive_mode", [0, 1])
def test_normalize_inverts_unnormalize(mode, drive_mode):
    cal = MotorCalibration(1, drive_mode, 0, 1000, 3000)
    for raw in (1000, 1500, 2000, 2999, 3000):
        assert unnormalize(normalize(raw, cal, mode, 4096), cal, mode, 4096) == raw


def test_normalized_values():
    cal = MotorCalibration(1, 0, 0, 1000, 3000)
    assert normalize(1000, cal, MotorNormMode.RANGE_M100_100, 4096) == -100
    assert normalize(3000, cal, MotorNormMode.RANGE_0_100, 4096) == 100
    assert normalize(2000 + 4095 / 4, cal, MotorNormMode.DEGREES, 4096) == 90.0
    assert unnormalize(500.0, cal, MotorNormMode.RANGE_M100_100, 4096) == 3000  # clipped to the range
    assert normalize(1000, MotorCalibration(1, 1, 0, 1000, 3000), MotorNormMode.RANGE_M100_100, 4096) == 100


def test_calibration_steps_record_ranges_and_write_motors(tmp_path):
    with ServoSimulator("feetech", {1: "sts3215", 2: "sts3215"}) as sim:
        sim.servo(1).actual = 3000.0  # the "middle" pose the user holds for joint 1
        bus = FeetechMotorsBus(sim.port, {"pan": Motor(1, "sts3215"), "roll": Motor(2, "sts3215")}, timeout_s=0.2)
        bus.connect()
        bus.disable_torque()
        offsets = bus.set_half_turn_homings()
        assert offsets["pan"] == 3000 - 2047
        polls = iter(range(60))

        def sweep_until_done():
            # while ranges are recorded, the "hand" sweeps joint 1 by +-700 ticks around the middle pose
            sim.servo(1).motion = lambda t: 3000 + 700 * math.sin(40 * t)
            return next(polls, None) is None

        mins, maxes = bus.record_ranges_of_motion(["pan"], done=sweep_until_done, poll_s=0.005)
        assert set(mins) == set(maxes) == {"pan"}
        cal = calibration_from_ranges(bus.motors, offsets, mins, maxes, full_turn_motors=("roll",))
        assert cal["pan"].homing_offset == 3000 - 2047
        assert 2047 - 700 <= cal["pan"].range_min < 2000 and 2100 < cal["pan"].range_max <= 2047 + 700
        assert (cal["roll"].range_min, cal["roll"].range_max) == (0, 4095)  # a full-turn joint gets every tick
        bus.write_calibration(cal)
        assert bus.read_calibration() == cal  # offsets and limits now live in the motors
        assert bus.motors_match_calibration(cal)
        bus.disconnect()


def test_calibration_rejects_a_joint_that_never_moved():
    with ServoSimulator("feetech", {1: "sts3215"}) as sim:
        bus = FeetechMotorsBus(sim.port, {"pan": Motor(1, "sts3215")}, timeout_s=0.2)
        bus.connect()
        polls = iter(range(3))
        offsets = bus.set_half_turn_homings()
        mins, maxes = bus.record_ranges_of_motion(done=lambda: next(polls, None) is None, poll_s=0.001)
        with pytest.raises(CalibrationError, match=r"\['pan'\] did not move"):
            calibration_from_ranges(bus.motors, offsets, mins, maxes, source=sim.port)
        bus.disconnect()


def test_motor_errors_belong_to_the_device_error_families():
    from robotlearn import errors
    from robotlearn.motors import MotorBusError, MotorsBusNotConnectedError, PortNotFoundError

    assert issubclass(MotorsBusNotConnectedError, errors.DeviceNotConnectedError)
    assert issubclass(PortNotFoundError, errors.DeviceError) and issubclass(PortNotFoundError, ConnectionError)
    assert issubclass(MotorBusError, errors.RobotlearnError)
    assert CalibrationError is errors.CalibrationError


def test_bus_rejects_calibration_for_other_motors():
    bus = FeetechMotorsBus("/dev/null", {"pan": Motor(1, "sts3215")})
    with pytest.raises(CalibrationError, match="id 4 in the calibration"):
        bus.calibration = {"pan": MotorCalibration(4, 0, 0, 0, 4095)}
