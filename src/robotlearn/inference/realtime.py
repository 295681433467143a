"""Real-time scheduling for a control loop: `with realtime_scheduling(priority): ...`.

On a machine that is also busy with other work (the policy server on the same computer, a
training job, a browser), the kernel's fair scheduler may run another process when a control
tick is due, and the tick starts milliseconds late. Under SCHED_FIFO the loop's thread runs as
soon as it wakes. It needs the CAP_SYS_NICE capability (root, `setcap cap_sys_nice+ep` on the
Python binary, or an `rtprio` limit in /etc/security/limits.conf). The loop sleeps between ticks
and busy-waits at most a millisecond, so it leaves the CPU to everything else.
"""

from __future__ import annotations

import contextlib
import os

from robotlearn.errors import ConfigError


@contextlib.contextmanager
def realtime_scheduling(priority: int | None):
    """Runs the calling thread under SCHED_FIFO at `priority` (1-99) inside the block; None: as is.
    Raises ConfigError when the platform or the process's privileges do not allow it."""
    if priority is None:
        yield
        return
    if not hasattr(os, "sched_setscheduler"):
        raise ConfigError("--realtime_priority needs Linux (os.sched_setscheduler)")
    if not 1 <= priority <= 99:
        raise ConfigError(f"--realtime_priority={priority}: SCHED_FIFO priorities are 1..99")
    previous = (os.sched_getscheduler(0), os.sched_getparam(0))
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except PermissionError:
        raise ConfigError(
            f"--realtime_priority={priority}: not permitted; run as root, give Python CAP_SYS_NICE "
            "(sudo setcap cap_sys_nice+ep $(readlink -f $(which python))), or drop the flag"
        ) from None
    try:
        yield
    finally:
        os.sched_setscheduler(0, previous[0], previous[1])
