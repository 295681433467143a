"""Video benchmark: decoder floor, encoder throughput, and recording latency with three cameras.

    python -m benchmarks.bench_video            # ~1 minute on 2 cores

Frames are synthetic but camera-like (smooth background, moving objects, mild sensor noise) so that
bitrates and codec speed resemble real recordings; pure noise would be ~10x slower to encode.
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from robotlearn.datasets.video import DecoderCache, VideoEncoder, decode_frames, encode_video


def camera_frames(n: int, h: int, w: int, seed: int = 0, noise_level: int = 3):
    """n camera-like (h, w, 3) uint8 frames: gradient background, two moving boxes, +-noise_level noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    background = np.stack([60 + 100 * xx / w, 80 + 60 * yy / h, 120 + 40 * (xx + yy) / (h + w)], -1)
    noise = [rng.integers(-noise_level, noise_level + 1, (h, w, 3)) for _ in range(4)]
    bh, bw = max(h // 6, 2), max(w // 6, 2)
    for i in range(n):
        img = background + noise[i % 4]
        for k, colour in enumerate(((220, 40, 40), (30, 200, 60))):
            y = int((h - bh) * (0.5 + 0.4 * np.sin(0.05 * i + 2 * k)))
            x = int((w - bw) * (0.5 + 0.4 * np.cos(0.07 * i + k)))
            img[y : y + bh, x : x + bw] = colour
        yield np.clip(img, 0, 255).astype(np.uint8)


def bench_decode(path: Path, n_frames: int, fps: int, window: int, calls: int, threads: int = 1) -> tuple[float, float]:
    """(calls per wall second, calls per CPU second), each call asking `window` consecutive frames at a
    random position. CPU seconds are this process's; on a shared machine they are the steadier figure."""
    cache = DecoderCache(decoder_threads=threads)
    rng = np.random.default_rng(0)
    starts = rng.integers(0, n_frames - window + 1, calls)
    decode_frames(path, [0.0], cache=cache)  # open the file and warm up swscale
    t0, c0 = time.perf_counter(), time.process_time()
    for s in starts:
        decode_frames(path, [(s + k) / fps for k in range(window)], cache=cache)
    return calls / (time.perf_counter() - t0), calls / (time.process_time() - c0)


def bench_sequential(path: Path, n_frames: int, fps: int) -> float:
    cache = DecoderCache()
    decode_frames(path, [0.0], cache=cache)
    t0 = time.perf_counter()
    for i in range(1, n_frames):
        decode_frames(path, [(i - 1) / fps, i / fps], cache=cache)
    return (n_frames - 1) / (time.perf_counter() - t0)


def bench_encode(frames: list[np.ndarray], path: Path, **opts) -> float:
    t0 = time.perf_counter()
    encode_video(frames, path, 30, **opts)
    return len(frames) / (time.perf_counter() - t0)


def bench_recording(frames: list[np.ndarray], out: Path, cameras: int, fps: int, seconds: float, **opts) -> dict:
    """Feed `cameras` encoders at `fps` for `seconds` from one loop, as a recorder would."""
    encoders = [VideoEncoder(out / f"cam{c}.mp4", fps, **opts) for c in range(cameras)]
    latencies = []
    n = int(fps * seconds)
    t_start = time.perf_counter()
    for i in range(n):
        for enc in encoders:
            t0 = time.perf_counter()
            enc.add_frame(frames[i % len(frames)])
            latencies.append(time.perf_counter() - t0)
        sleep = t_start + (i + 1) / fps - time.perf_counter()
        if sleep > 0:
            time.sleep(sleep)
    t0 = time.perf_counter()
    threads = [threading.Thread(target=enc.close) for enc in encoders]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    close_s = time.perf_counter() - t0
    lat = np.array(latencies) * 1e3
    return {
        "p50_ms": np.percentile(lat, 50),
        "p99_ms": np.percentile(lat, 99),
        "max_ms": lat.max(),
        "close_s": close_s,
        "spilled": sum(e.frames_spilled for e in encoders),
        "written": sum(e.frames_written for e in encoders),
        "expected": n * cameras,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        small = list(camera_frames(300, 96, 96))
        big = list(camera_frames(90, 480, 640))
        noisy = list(camera_frames(90, 480, 640, noise_level=12))  # a dim room through a cheap webcam
        encode_video(small, tmp / "s_av1.mp4", 10)
        encode_video(big, tmp / "b_av1.mp4", 30)
        encode_video(big, tmp / "b_h264.mp4", 30, vcodec="h264")

        print("Decoding (DecoderCache, random positions, one process)")
        print(f"{'video':<20}{'request':<26}{'calls/s':>10}{'frames/s':>10}{'calls/cpu-s':>13}")
        rows = [
            ("96x96 AV1 g=2", "s_av1.mp4", 300, 10, 1, 3000, 1),
            ("96x96 AV1 g=2", "s_av1.mp4", 300, 10, 2, 3000, 1),
            ("480x640 AV1 g=2", "b_av1.mp4", 90, 30, 1, 200, 1),
            ("480x640 AV1 g=2", "b_av1.mp4", 90, 30, 1, 200, 0),
            ("480x640 h264 g=2", "b_h264.mp4", 90, 30, 1, 200, 1),
            ("480x640 h264 g=2", "b_h264.mp4", 90, 30, 1, 200, 0),
        ]
        for name, file, n, fps, window, calls, threads in rows:
            rate, cpu_rate = bench_decode(tmp / file, n, fps, window, calls, threads)
            req = f"{window} frame{'s' if window > 1 else ''}, threads={threads or 'auto'}"
            print(f"{name:<20}{req:<26}{rate:>10.0f}{rate * window:>10.0f}{cpu_rate:>13.0f}")
        seq = bench_sequential(tmp / "s_av1.mp4", 300, 10)
        print(f"{'96x96 AV1 g=2':<20}{'2 frames, in order':<26}{seq:>10.0f}{seq * 2:>10.0f}")

        print("\nEncoding 480x640 (one encoder, frames/s; real time for 3 cameras at 30 fps needs 90)")
        print(f"{'codec':<32}{'content':<10}{'frames/s':>10}{'MB/min@30fps':>14}")
        for name, opts in [
            ("libsvtav1 preset 12 crf 30", {}),
            ("libx264 ultrafast crf 23 bf 0", {"vcodec": "h264", "preset": "ultrafast"}),
            ("libx264 veryfast crf 23 bf 0", {"vcodec": "h264", "preset": "veryfast"}),
        ]:
            for content, frames in (("clean", big), ("noisy", noisy)):
                path = tmp / "enc.mp4"
                rate = bench_encode(frames, path, **opts)
                mb_min = path.stat().st_size / len(frames) * 30 * 60 / 1e6
                print(f"{name:<32}{content:<10}{rate:>10.0f}{mb_min:>14.1f}")

        print("\nRecording: 3 cameras 480x640 at 30 fps for 5 s, add_frame latency and close()")
        print(f"{'codec':<28}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'close s':>9}{'spilled':>9}{'written':>12}")
        for name, frames, opts in [
            ("libsvtav1 preset 12, clean", big, {}),
            ("libsvtav1 preset 12, noisy", noisy, {}),
            ("libx264 veryfast, noisy", noisy, {"vcodec": "h264"}),
        ]:
            out = tmp / name.replace(" ", "_").replace(",", "")
            out.mkdir()
            r = bench_recording(frames, out, cameras=3, fps=30, seconds=5.0, **opts)
            print(
                f"{name:<28}{r['p50_ms']:>8.2f}{r['p99_ms']:>8.2f}{r['max_ms']:>8.2f}{r['close_s']:>9.2f}"
                f"{r['spilled']:>9}{r['written']:>7}/{r['expected']}"
            )


if __name__ == "__main__":
    main()
