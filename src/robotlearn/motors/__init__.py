"""Serial servo buses (Feetech STS, Dynamixel X) with calibration, plus a protocol-level simulator.

from robotlearn.motors import Motor, MotorNormMode, FeetechMotorsBus
"""

from robotlearn.motors.bus import MotorsBus
from robotlearn.motors.calibration import (
    MotorCalibration,
    calibration_from_ranges,
    calibration_path,
    load_calibration,
    save_calibration,
)
from robotlearn.motors.dynamixel import DynamixelMotorsBus
from robotlearn.motors.feetech import FeetechMotorsBus
from robotlearn.motors.motor import (
    CalibrationError,
    Motor,
    MotorBusError,
    MotorCommunicationError,
    MotorNormMode,
    MotorNotFoundError,
    MotorsBusNotConnectedError,
    MotorStatusError,
    PortNotFoundError,
)

__all__ = [
    "CalibrationError", "DynamixelMotorsBus", "FeetechMotorsBus", "Motor", "MotorBusError", "MotorCalibration",
    "MotorCommunicationError", "MotorNormMode", "MotorNotFoundError", "MotorsBus", "MotorsBusNotConnectedError",
    "MotorStatusError", "PortNotFoundError", "calibration_from_ranges", "calibration_path", "load_calibration", "save_calibration",
]  # fmt: skip
