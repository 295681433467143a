"""Streaming benchmark (issue: streaming dataset), printed as a table.

    python -m benchmarks.bench_streaming        # ~1-2 minutes on 2 cores

The datasets of bench_dataset.py (bench_data/, built once and reused) are served by
`python -m robotlearn.datasets.serve` in its own process on loopback, and read back with
`StreamingLeRobotDataset` through HTTP range requests, 2 DataLoader workers, batch 32, shuffle buffer 1000,
uint8 frames (as bench_dataset.py):
1. pusht-like: 100 episodes x 150 frames, one 96x96 camera at 10 fps; window camera [-0.1, 0],
   state [-0.1, 0], action 16 steps. Target >= 1,000 samples/s.
2. aloha-like: 10 x 400 frames, three 480x640 cameras at 50 fps; first camera [-0.02, 0], others [0];
   with torch's default_collate and with `collate_samples` (reused shared memory, see datasets/collate.py).
3. Memory: RSS of the main process + workers after 5,000, 10,000 and 20,000 pusht-like samples (two epochs), and
   each process's peak; it must not grow with samples.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import torch

from benchmarks.bench_dataset import BENCH_DATA, build
from benchmarks.table import print_table
from robotlearn.datasets.collate import collate_samples
from robotlearn.datasets.streaming import StreamingLeRobotDataset

PUSHT_DELTAS = {
    "observation.images.top": [-0.1, 0.0],
    "observation.state": [-0.1, 0.0],
    "action": [k / 10 for k in range(16)],
}
ALOHA_DELTAS = {
    "observation.images.high": [-0.02, 0.0],
    "observation.images.left": [0.0],
    "observation.images.right": [0.0],
}


def serve(root: Path) -> tuple[subprocess.Popen, str]:
    """Start the range server in a child process (a separate GIL, like a real server) and wait until it answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "robotlearn.datasets.serve", str(root), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/pusht_like/meta/info.json", timeout=1).read()
            return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"the range server on {url} did not start")


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident set size of a process in MiB, from /proc."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def children(exclude: int) -> list[int]:
    me, out = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != exclude:
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == me:
                        out.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


def rate(url: str, deltas: dict, samples: int, batch_size: int = 32, collate_fn=None) -> float:
    ds = StreamingLeRobotDataset("bench/x", root=url, delta_timestamps=deltas, return_uint8=True)
    loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, num_workers=2, collate_fn=collate_fn)
    it = iter(loader)
    for _ in range(2):  # worker start-up and the first fetches are not what we measure
        next(it)
    done, t = 0, time.perf_counter()
    while done < samples:
        done += len(next(it)["index"])
    return done / (time.perf_counter() - t)


def memory(url: str, server_pid: int, checkpoints=(5_000, 10_000, 20_000), batch_size: int = 32) -> dict:
    """RSS (main + workers) at each checkpoint while streaming epochs back to back, and peaks."""
    ds = StreamingLeRobotDataset("bench/x", root=url, delta_timestamps=PUSHT_DELTAS, return_uint8=True)
    loader = torch.utils.data.DataLoader(ds, batch_size=batch_size, num_workers=2, persistent_workers=True)
    seen, out, epoch, peaks = 0, {}, 0, {}
    t = time.perf_counter()
    while seen < checkpoints[-1]:
        ds.set_epoch(epoch)  # reaches the persistent workers through shared memory
        for batch in loader:
            seen += len(batch["index"])
            for c in checkpoints:
                if c not in out and seen >= c:
                    pids = [os.getpid()] + children(server_pid)
                    stats = [rss_mb(p) for p in pids]
                    out[c] = sum(s[0] for s in stats)
                    for p, s in zip(pids, stats):
                        peaks[p] = max(peaks.get(p, 0.0), s[1])
            if seen >= checkpoints[-1]:
                break
        epoch += 1
    out["rate"] = seen / (time.perf_counter() - t)
    out["peak"] = max(peaks.values())
    return out


def main() -> None:
    BENCH_DATA.mkdir(exist_ok=True)
    print("building benchmark datasets (cached in bench_data/) ...")
    build(BENCH_DATA / "pusht_like", 100, 150, 10, {"top": (96, 96)}, 2)
    build(BENCH_DATA / "aloha_like", 10, 400, 50, {"high": (480, 640), "left": (480, 640), "right": (480, 640)}, 14)
    torch.set_num_threads(1)
    server, url = serve(BENCH_DATA)
    try:
        rows = [
            (
                "pusht-like over HTTP, 2 workers, batch 32",
                f"{rate(url + '/pusht_like', PUSHT_DELTAS, 6_000):,.0f} samples/s",
                ">= 1,000",
            ),
            (
                "aloha-like over HTTP, 2 workers, batch 8",
                f"{rate(url + '/aloha_like', ALOHA_DELTAS, 160, batch_size=8):,.0f} samples/s",
                "-",
            ),
            (
                "aloha-like over HTTP, 2 workers, batch 8, collate_samples",
                f"{rate(url + '/aloha_like', ALOHA_DELTAS, 160, batch_size=8, collate_fn=collate_samples):,.0f} samples/s",
                "-",
            ),
        ]
        mem = memory(url + "/pusht_like", server.pid)
        rows.append(
            (
                "RSS main+workers after 5k / 10k / 20k samples",
                f"{mem[5_000]:,.0f} / {mem[10_000]:,.0f} / {mem[20_000]:,.0f} MiB "
                f"(largest per-process peak {mem['peak']:,.0f} MiB; {mem['rate']:,.0f} samples/s)",
                "flat",
            )
        )
    finally:
        server.kill()
        server.wait()
    print_table(("benchmark", "StreamingLeRobotDataset", "target"), rows)


if __name__ == "__main__":
    main()
