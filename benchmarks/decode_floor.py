"""The decode floor: the bare decoder decoding the frames a benchmark's samples need, and nothing else.

A dataset cannot hand out samples faster than their frames can be decoded. This measures that limit for
a given list of requests, with the same number of processes as the loader it is compared with, using
the bare decoder libraries directly (no robotlearn code): files opened once per process, one seek to the
keyframe at/before each window's first frame, decoding forward to its last, each asked frame converted to
(H, W, 3) uint8 RGB with one swscale thread. Both PyAV and, when importable, torchcodec (exact seek mode,
one FFmpeg thread) are timed; the caller takes the faster (bench_dataset.py: by its median over rounds).

    requests = [[(path, [t0, t1]), (path2, [t])], ...]        # per sample: (video file, file times) pairs
    floor_rates(requests, processes=2)                         # {"pyav": samples/s, "torchcodec": ...}
"""

from __future__ import annotations

import math
import multiprocessing
import time

import numpy as np

Request = list[tuple[str, list[float]]]


def _pyav_worker(requests: list[Request]):
    import av

    opened: dict[str, tuple] = {}

    def decode(path: str, times: list[float]) -> list[np.ndarray]:
        if path not in opened:
            container = av.open(path)
            stream = container.streams.video[0]
            stream.codec_context.thread_count = 1
            opened[path] = (container, stream)
        container, stream = opened[path]
        tb = stream.time_base
        container.seek(max(math.floor(min(times) / tb + 1e-3), 0), stream=stream, backward=True)
        wanted = sorted({round(t / tb) for t in times})
        out = []
        for frame in container.decode(stream):
            if frame.pts in wanted:
                out.append(frame.to_ndarray(format="rgb24", threads=1))
            if frame.pts >= wanted[-1]:
                break
        if len(out) != len(wanted):
            raise RuntimeError(f"{path}: decoded {len(out)} of the frames at {times}")
        return out

    return decode


def _torchcodec_worker(requests: list[Request]):
    from torchcodec.decoders import VideoDecoder

    opened: dict[str, VideoDecoder] = {}

    def decode(path: str, times: list[float]):
        if path not in opened:
            opened[path] = VideoDecoder(path, seek_mode="exact", num_ffmpeg_threads=1)
        return opened[path].get_frames_played_at(times).data

    return decode


_BACKENDS = {"pyav": _pyav_worker, "torchcodec": _torchcodec_worker}


def available_backends() -> list[str]:
    """PyAV, and torchcodec where it imports (it needs a system FFmpeg)."""
    names = ["pyav"]
    try:
        import torchcodec.decoders  # noqa: F401
    except Exception:  # missing, or its FFmpeg libraries are not installed
        return names
    return names + ["torchcodec"]


def _run_share(backend: str, requests: list[Request], barrier, results, slot: int) -> None:
    import torch

    # One intra-op thread, as in a DataLoader worker (torchcodec copies frames with torch ops). This also
    # keeps a forked child out of an OpenMP pool its parent may have started, which would hang it.
    torch.set_num_threads(1)
    decode = _BACKENDS[backend](requests)
    for path, times in {p: t for r in requests for p, t in r}.items():  # open every file, warm up
        decode(path, times)
    barrier.wait()
    t0 = time.perf_counter()
    for request in requests:
        for path, times in request:
            decode(path, times)
    results[slot] = time.perf_counter() - t0


def decode_rate(backend: str, shares: list[list[Request]]) -> float:
    """Samples/s of `backend` decoding every share in its own forked process (one share: one process; the
    caller's process never opens a decoder, so nothing it holds is inherited)."""
    n = sum(len(s) for s in shares)
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(len(shares) + 1)
    results = ctx.Array("d", len(shares))
    procs = [ctx.Process(target=_run_share, args=(backend, s, barrier, results, i)) for i, s in enumerate(shares)]
    for p in procs:
        p.start()
    barrier.wait()
    t0 = time.perf_counter()
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    if any(p.exitcode for p in procs):
        raise RuntimeError(f"decode floor: a {backend} process failed")
    if len(shares) == 1:  # its own clock: without the process's exit
        return n / results[0]
    return n / wall


def split_like_dataloader(requests: list[Request], processes: int, batch_size: int) -> list[list[Request]]:
    """The requests each DataLoader worker decodes: batch k goes to worker k % processes."""
    shares: list[list[Request]] = [[] for _ in range(processes)]
    for k in range(0, len(requests), batch_size):
        shares[(k // batch_size) % processes].extend(requests[k : k + batch_size])
    return shares


def floor_rates(requests: list[Request], processes: int = 1, batch_size: int = 1) -> dict[str, float]:
    """Samples/s of each available bare decoder on `requests` with `processes` processes (the same split
    of work as a DataLoader with that many workers and `batch_size`)."""
    shares = split_like_dataloader(requests, processes, batch_size)
    return {b: decode_rate(b, shares) for b in available_backends()}
