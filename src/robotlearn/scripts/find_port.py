"""`robotlearn find-port`: find which serial port belongs to a motor bus by unplugging it.

Lists the serial ports, asks you to unplug the arm's USB cable, lists them again and prints the
one that disappeared. `--list` only prints the ports (no questions asked).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from robotlearn.configs import parse_config
from robotlearn.motors.ports import find_removed_port, list_ports


@dataclass
class FindPortArgs:
    list: bool = False
    """Only print the serial ports present now and exit (non-interactive)."""
    wait_s: float = 0.5
    """Seconds to wait after you unplug, for the OS to drop the device."""


CONFIG = FindPortArgs


def main(argv: list[str]) -> int:
    args = parse_config(FindPortArgs, argv, prog="robotlearn find-port", description=__doc__)
    ports = list_ports()
    if args.list:
        print("\n".join(ports) if ports else "no serial ports found")
        return 0
    print("Serial ports now:", ", ".join(ports) or "none")
    input("Unplug the USB cable of the motor bus you want to identify, then press ENTER... ")
    time.sleep(args.wait_s)
    port = find_removed_port(ports, list_ports())  # DeviceError (exit 2) when none or several disappeared
    print(f"The port of this motor bus is {port}")
    print("Plug the USB cable back in. Pass it as --robot.port / --teleop.port.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
