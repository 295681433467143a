"""`robotlearn find-port`: find which serial port belongs to a motor bus by unplugging it.

Lists the serial ports, asks you to unplug the arm's USB cable, lists them again and prints the
one that disappeared. `--list` only prints the ports (no questions asked).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

from robotlearn.configs import parse_config


@dataclass
class FindPortArgs:
    list: bool = field(default=False, metadata={"help": "Only print the serial ports present now and exit (non-interactive)."})
    wait_s: float = field(default=0.5, metadata={"help": "Seconds to wait after you unplug, for the OS to drop the device."})


def list_ports() -> list[str]:
    """Device paths of the serial ports present now, sorted."""
    try:
        from serial.tools import list_ports as lp
    except ImportError as e:
        raise ImportError("find-port needs pyserial: pip install 'robotlearn[hardware]'") from e
    return sorted(p.device for p in lp.comports())


def find_removed_port(before: list[str], after: list[str]) -> str:
    """The one port in `before` missing from `after`; RuntimeError saying what to check otherwise."""
    removed = sorted(set(before) - set(after))
    if len(removed) == 1:
        return removed[0]
    if not removed:
        raise RuntimeError("no serial port disappeared. Unplug the arm's USB cable from the computer (not only its power), then try again.")
    raise RuntimeError(f"several ports disappeared ({', '.join(removed)}); unplug only one arm and try again.")


def main(argv: list[str] | None = None) -> int:
    args = parse_config(FindPortArgs, argv, prog="robotlearn find-port", description=__doc__)
    ports = list_ports()
    if args.list:
        print("\n".join(ports) if ports else "no serial ports found")
        return 0
    print("Serial ports now:", ", ".join(ports) or "none")
    input("Unplug the USB cable of the motor bus you want to identify, then press ENTER... ")
    time.sleep(args.wait_s)
    try:
        port = find_removed_port(ports, list_ports())
    except RuntimeError as e:
        print(f"find-port: {e}", file=sys.stderr)
        return 1
    print(f"The port of this motor bus is {port}")
    print("Plug the USB cable back in. Pass it as --robot.port / --teleop.port.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
