"""Where video encoders run: at a lower priority than the control loop, with few codec threads on small machines.

Recording three 480x640 cameras at 30 fps on 2 cores, the codecs' threads competing with the control loop
for the CPU made `add_frame` take ~10 ms typically and over 20 ms at p99 (benchmarks/bench_dataset.py).
`VideoEncoder` opens its codec through `start_encoding_niced`, and asks for ENCODER_THREADS codec threads.
"""

from __future__ import annotations

import os
import threading

# The codec's worker threads (SVT-AV1's, x264's: where the encoding CPU goes) run this much nicer than the
# recording process, so a control loop calling add_frame gets a core as soon as it wakes, however busy the
# encoders are; they use what the loop leaves. Linux niceness is per thread and a thread inherits its
# creator's, so the codec is opened from a short-lived niced thread (`start_encoding_niced`). The encoder's
# own Python thread keeps normal priority: it holds the GIL between FFmpeg calls, and a niced GIL holder
# preempted by the codec threads would stall the loop waiting for the GIL (priority inversion).
ENCODER_NICE = 19
# Codec worker threads per encoder on small machines (<= 4 cores), where every core is already shared by the
# loop and one encoder per camera: SVT-AV1 level of parallelism 1 (~19 threads instead of ~50, ~10% less CPU
# per frame, identical output), x264 2 frame threads (its work then runs in those niced threads, not in the
# encoder's Python thread). Elsewhere the codec's defaults. (SVT-AV1 preset 12 at 480x640: 133 vs 121 frames
# per CPU-second; x264 veryfast: 215 with 2 threads, 186 with 1.)
SMALL_MACHINE = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1) <= 4
ENCODER_THREADS = {"libsvtav1": 1, "libx264": 2} if SMALL_MACHINE else {}


def _lower_thread_priority(delta: int) -> None:
    """Make the calling thread (and threads it starts later) `delta` nicer. Linux only; elsewhere a no-op."""
    if not hasattr(os, "setpriority") or not hasattr(threading, "get_native_id"):
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(os.getpriority(os.PRIO_PROCESS, tid) + delta, 19))
    except OSError:  # not permitted here: encode at the caller's priority
        pass


def start_encoding_niced(container) -> None:
    """Open `container`'s codecs and write its header from a thread ENCODER_NICE nicer than this one, so the
    worker threads the codec starts when it opens inherit that niceness while the caller keeps its own."""
    failed: list[BaseException] = []

    def run():
        _lower_thread_priority(ENCODER_NICE)
        try:
            container.start_encoding()
        except BaseException as exc:  # re-raised in the encoder thread
            failed.append(exc)

    opener = threading.Thread(target=run, name="VideoEncoder-open", daemon=True)
    opener.start()
    opener.join()
    if failed:
        raise failed[0]
