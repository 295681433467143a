"""robotlearn's error root: every error the library raises on purpose derives from `RobotlearnError`.

Each area keeps its specific errors next to its code (`datasets/errors.py`, `motors/motor.py`, ...)
but derives them from the families here, so a caller (the `robotlearn` command, a notebook, a
test) can catch one class. `robotlearn <command>` prints any `RobotlearnError` as one line and
exits with status 2 (`--debug` or `ROBOTLEARN_DEBUG=1` shows the traceback).

Messages say what is wrong, where (file, field, flag) and what to do about it.
"""

from __future__ import annotations


class RobotlearnError(Exception):
    """Root of every error robotlearn raises on purpose."""


class ConfigError(RobotlearnError, ValueError):
    """A configuration value (flag, config file field, option) is unknown, missing or invalid."""


class UnknownTypeError(ConfigError):
    """No registered component (robot, camera, policy, env, ...) has the requested type name; the
    message lists the known names and the closest match."""


class MissingDependencyError(RobotlearnError, ImportError):
    """An optional package is not installed; the message names the pip command that installs it."""


class DeviceError(RobotlearnError):
    """A robot, teleoperator, camera or motor bus cannot do what was asked."""


class DeviceNotConnectedError(DeviceError, RuntimeError):
    """A device was used before `connect()` (or after `disconnect()`)."""


class DeviceAlreadyConnectedError(DeviceError, RuntimeError):
    """`connect()` was called on a device that is already connected."""


class CalibrationError(DeviceError, ValueError):
    """A device's calibration is missing, unreadable or does not match the device; the message
    names the file and the `robotlearn calibrate` command that writes it."""


class PolicyError(RobotlearnError):
    """A policy cannot be built, loaded or run as asked."""


class TrainingError(RobotlearnError):
    """Training cannot start or continue (checkpoint missing or incompatible, loss diverged)."""


__all__ = [
    "CalibrationError",
    "ConfigError",
    "DeviceAlreadyConnectedError",
    "DeviceError",
    "DeviceNotConnectedError",
    "MissingDependencyError",
    "PolicyError",
    "RobotlearnError",
    "TrainingError",
    "UnknownTypeError",
]
