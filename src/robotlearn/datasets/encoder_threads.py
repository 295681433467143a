"""Where video encoders run: below the control loop's priority, with few codec threads on small machines.

Recording three 480x640 cameras at 30 fps on 2 cores, the encoders competing with the control loop for the
CPU made `add_frame` wait for a core: ~10 ms typically and over 20 ms at p99 (benchmarks/bench_dataset.py).
Each `VideoEncoder` thread lowers its own priority (`lower_thread_priority`) before opening its codec,
which then starts its threads at that priority (`demote_codec_threads` then puts those at SCHED_IDLE),
and asks for ENCODER_THREADS codec threads.
"""

from __future__ import annotations

import os
import threading

# The encoder's Python thread (colour conversion, statistics, muxing) and the codec's worker threads
# (SVT-AV1's, x264's: where most of the encoding CPU goes) run this much nicer than the recording process,
# so a control loop calling add_frame gets a core as soon as it wakes, however busy the encoders are; they
# use what the loop leaves. Linux niceness is per thread and a thread inherits its creator's. (Measured,
# 3x480x640 x264 at 30 fps on 2 cores: add_frame p99 5.0-9.7 ms with the Python thread at the loop's
# priority, 1.7-3.3 ms with it niced too; the GIL it holds between FFmpeg calls did not stall the loop.)
ENCODER_NICE = 19
# Codec worker threads per encoder on small machines (<= 4 cores), where every core is already shared by the
# loop and one encoder per camera: SVT-AV1 level of parallelism 1 (~16 threads instead of ~50, ~10% less CPU
# per frame, identical output), x264 2 frame threads (its work then runs in those niced threads, not in the
# encoder's Python thread). Elsewhere the codec's defaults. (SVT-AV1 preset 12 at 480x640: 133 vs 121 frames
# per CPU-second; x264 veryfast: 215 with 2 threads, 186 with 1.)
SMALL_MACHINE = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1) <= 4
ENCODER_THREADS = {"libsvtav1": 1, "libx264": 2} if SMALL_MACHINE else {}
_REALTIME = {getattr(os, name) for name in ("SCHED_FIFO", "SCHED_RR") if hasattr(os, name)}


def lower_thread_priority(delta: int = ENCODER_NICE) -> None:
    """Make the calling thread (and threads it starts later) `delta` nicer. Linux only; elsewhere a no-op."""
    if not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(os.getpriority(os.PRIO_PROCESS, tid) + delta, 19))
    except OSError:  # not permitted here, or the thread has ended: it keeps its priority
        pass


def thread_ids() -> set[int]:
    """Native ids of this process's threads now (empty where there is no /proc)."""
    try:
        return {int(t) for t in os.listdir("/proc/self/task")}
    except OSError:
        return set()


def demote_codec_threads(since: set[int]) -> None:
    """Put the threads started after the `since` snapshot (the codec's) at the SCHED_IDLE policy, and the
    calling thread back to the normal policy if a codec made it real-time.

    SCHED_IDLE: a waking control loop preempts such a thread at once, where a nice-19 thread could keep
    its core for a few ms (3x480x640 at 30 fps on 2 cores, add_frame p99: x264 1.2-1.9 ms idle vs
    1.8-4.3 ms nice 19; SVT-AV1 4.0-6.1 vs 4.3-6.8). On a machine busy with other work they get only what
    is left, and the queue spills to disk rather than drop a frame. The encoder's own Python thread stays
    at nice 19 with the normal policy: it holds the GIL between FFmpeg calls, and at SCHED_IDLE it made the
    loop wait for the GIL (add_frame p99 up to 7.6 ms).
    Real-time: run as root, SVT-AV1 starts its threads SCHED_FIFO at priority 99 and switches the thread
    that opened it to that too; those preempted the control loop whenever they had work (add_frame p99
    9-69 ms instead of ~5 ms). The encoder thread calls this after opening the codec and after every frame
    (codecs start some threads later; ~0.01 ms). A thread of the caller's own started while an encoder
    starts its codec would be demoted too."""
    if not hasattr(os, "sched_setscheduler"):
        return
    me = threading.get_native_id()
    try:
        if os.sched_getscheduler(me) in _REALTIME:
            nice = os.getpriority(os.PRIO_PROCESS, me)  # a niceness survives a switch to real-time and back
            os.sched_setscheduler(me, os.SCHED_OTHER, os.sched_param(0))
            os.setpriority(os.PRIO_PROCESS, me, nice)
    except OSError:  # this process may not change it
        pass
    for tid in thread_ids() - since - {me}:
        try:
            if os.sched_getscheduler(tid) != os.SCHED_IDLE:
                os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
        except OSError:  # the thread has ended, or this process may not change it
            pass
