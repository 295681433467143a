"""Run a servo simulator until Ctrl-C: `python -m robotlearn.motors.sim --protocol=feetech --ids=1,2,3,4,5,6`.

Prints the pseudo-terminal path on the first line of stdout; pass it as the robot's port, e.g.
`robotlearn record --robot.type=so100_follower --robot.port=/dev/pts/5 ...`. With `--motion=sine`
joints sway slowly while their torque is off, like a hand moving a leader arm.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
from dataclasses import dataclass, field

from robotlearn.configs import parse_config
from robotlearn.motors.sim.server import ServoSimulator

DEFAULT_MODELS = {"feetech": "sts3215", "dynamixel": "xl330-m288"}


@dataclass
class SimArgs:
    """Options of the servo simulator process."""

    protocol: str = "feetech"
    """Wire protocol: feetech (STS3215, SO-100/101) or dynamixel (X series, Koch)."""
    ids: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5, 6])
    """Motor IDs on the bus, comma-separated."""
    model: str = ""
    """Motor model for every ID (default: sts3215 for feetech, xl330-m288 for dynamixel)."""
    motion: str = "none"
    """'sine': joints with torque off sway around mid-range (simulates a hand on a leader arm); 'none': they stay put."""
    link: str = ""
    """Also create a symlink with this path pointing at the pty (a stable port name)."""


def sine_motion(index: int):
    """Joint `index` sways +-600 ticks around mid-range with a period of a few seconds."""
    return lambda t: 2048 + 600 * math.sin(0.8 * t + index)


def main(argv: list[str] | None = None) -> int:
    args = parse_config(SimArgs, argv, prog="python -m robotlearn.motors.sim", description=__doc__)
    model = args.model or DEFAULT_MODELS.get(args.protocol, "")
    sim = ServoSimulator(args.protocol, {i: model for i in args.ids}).start()
    if args.motion == "sine":
        for k, i in enumerate(args.ids):
            sim.servo(i).motion = sine_motion(k)
    elif args.motion != "none":
        print(f"--motion must be 'sine' or 'none', got {args.motion!r}", file=sys.stderr)
        return 2
    if args.link:
        if os.path.islink(args.link):
            os.unlink(args.link)
        os.symlink(sim.port, args.link)
    print(sim.port, flush=True)
    print(
        f"simulating {args.protocol} motors {args.ids} ({model}) on {sim.port}; Ctrl-C to stop",
        file=sys.stderr,
        flush=True,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
        if args.link and os.path.islink(args.link):
            os.unlink(args.link)
    return 0


if __name__ == "__main__":
    sys.exit(main())
