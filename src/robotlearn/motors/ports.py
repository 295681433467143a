"""Serial ports: which are present, and which one disappeared (`robotlearn find-port`)."""

from __future__ import annotations

from robotlearn.errors import DeviceError, MissingDependencyError


def list_ports() -> list[str]:
    """Device paths of the serial ports present now, sorted."""
    try:
        from serial.tools import list_ports as lp
    except ImportError as e:
        raise MissingDependencyError("finding serial ports needs pyserial: pip install 'robotlearn[hardware]'") from e
    return sorted(p.device for p in lp.comports())


def find_removed_port(before: list[str], after: list[str]) -> str:
    """The one port in `before` missing from `after`; DeviceError saying what to check otherwise."""
    removed = sorted(set(before) - set(after))
    if len(removed) == 1:
        return removed[0]
    if not removed:
        raise DeviceError(
            "no serial port disappeared. Unplug the arm's USB cable from the computer (not only its power), then try again."
        )
    raise DeviceError(f"several ports disappeared ({', '.join(removed)}); unplug only one arm and try again.")
