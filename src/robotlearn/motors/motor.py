"""What a bus needs to know about one motor, and the errors a bus raises.

A motor is addressed by a *name* (`"shoulder_pan"`) everywhere above the bus; the bus maps names
to the integer IDs on the wire. `MotorNormMode` says how raw encoder ticks become the numbers a
policy sees (see `robotlearn.motors.calibration.normalize`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from robotlearn.errors import CalibrationError, DeviceError, DeviceNotConnectedError


class MotorNormMode(str, enum.Enum):  # noqa: UP042  (str() of a member keeps the Enum form)
    """How a position register is presented above the bus.

    DEGREES: 0 at the middle of the calibrated range, 360 per turn (4095 ticks).
    RANGE_M100_100: -100 at range_min, +100 at range_max (arm joints).
    RANGE_0_100: 0 at range_min, 100 at range_max (grippers: 0 = closed side).
    RAW: encoder ticks, untouched.
    """

    DEGREES = "degrees"
    RANGE_M100_100 = "range_m100_100"
    RANGE_0_100 = "range_0_100"
    RAW = "raw"


@dataclass(frozen=True)
class Motor:
    """One motor on a bus: its ID on the wire, its model name (e.g. "sts3215", "xl330-m288") and
    how its position is normalized."""

    id: int
    model: str
    norm_mode: MotorNormMode = MotorNormMode.RANGE_M100_100


class MotorBusError(DeviceError, ConnectionError):
    """Base class of the errors below; catch this to handle any bus failure (also a
    `ConnectionError`, as a serial link failing is one)."""


class PortNotFoundError(MotorBusError):
    """The serial port cannot be opened (wrong path, unplugged adapter, no permission)."""


class MotorNotFoundError(MotorBusError):
    """Some motors did not answer a ping at connect, or report another model than configured."""


class MotorCommunicationError(MotorBusError):
    """A packet exchange failed after all retries (timeout, checksum error, truncated reply).

    Attributes name where it happened so callers (and tests) can act on it.
    """

    def __init__(self, message: str, *, port: str, motors: list[str], register: str, reason: str):
        super().__init__(message)
        self.port, self.motors, self.register, self.reason = port, motors, register, reason


class MotorStatusError(MotorBusError):
    """A motor answered but refused the instruction (e.g. Dynamixel "access error": writing an
    EEPROM register while torque is on)."""


class MotorsBusNotConnectedError(MotorBusError, DeviceNotConnectedError):
    """The bus was used before `connect()` or after `disconnect()` (one of the
    `robotlearn.errors.DeviceNotConnectedError` family)."""


__all__ = [
    "CalibrationError",  # robotlearn.errors.CalibrationError, re-exported: calibration missing/malformed/mismatched
    "Motor",
    "MotorBusError",
    "MotorCommunicationError",
    "MotorNormMode",
    "MotorNotFoundError",
    "MotorStatusError",
    "MotorsBusNotConnectedError",
    "PortNotFoundError",
]
