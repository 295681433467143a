"""Dataset benchmarks (issue: dataset core), printed as a table.

    python -m benchmarks.bench_dataset

1. pusht-like: 100 episodes x 150 frames, one 96x96 camera at 10 fps; window camera [-0.1, 0],
   state [-0.1, 0], action 16 steps; `ds[i]` at random indices in one process. Target >= 1,300/s.
2. aloha-like: 10 x 400 frames, three 480x640 cameras at 50 fps; first camera 2 frames, others 1;
   DataLoader with 2 workers. Target >= 120 samples/s.
3. Opening a 1,000,000-frame dataset (no copy of its data). Target < 2 s.
4. Recording three 480x640 cameras at 30 fps: add_frame p99 (target <= 5 ms) and save_episode
   time for a 5 s episode (target <= 0.2 s), and frames dropped (must be 0).
Each row shows the pure-decoder floor on the same frames beside the dataset's rate.
Datasets are generated once into bench_data/ (gitignored) and reused.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch

from benchmarks.bench_video import camera_frames
from robotlearn.datasets import LeRobotDataset
from robotlearn.datasets.video import DecoderCache, decode_frames

BENCH_DATA = Path(__file__).resolve().parents[1] / "bench_data"


def build(
    root: Path,
    episodes: int,
    length: int,
    fps: int,
    cameras: dict[str, tuple[int, int]],
    state_dim: int,
    vcodec: str = "libsvtav1",
) -> Path:
    """Record a dataset with camera-like frames (cached: rebuilt only when missing)."""
    if (root / "meta" / "info.json").exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    features = {
        "observation.state": {"dtype": "float32", "shape": (state_dim,), "names": None},
        "action": {"dtype": "float32", "shape": (state_dim,), "names": None},
        **{
            f"observation.images.{c}": {"dtype": "video", "shape": (h, w, 3), "names": ["height", "width", "channels"]}
            for c, (h, w) in cameras.items()
        },
    }
    tmp = root.with_name(root.name + ".building")
    shutil.rmtree(tmp, ignore_errors=True)
    ds = LeRobotDataset.create(
        "bench/" + root.name, fps=fps, features=features, root=tmp, vcodec=vcodec, video_when_full="block"
    )
    rng = np.random.default_rng(0)
    for e in range(episodes):
        streams = {c: camera_frames(length, h, w, seed=e * 10 + k) for k, (c, (h, w)) in enumerate(cameras.items())}
        for _f in range(length):
            frame = {"observation.state": rng.standard_normal(state_dim).astype(np.float32), "task": "bench"}
            frame["action"] = frame["observation.state"] + 0.1
            for c in cameras:
                frame[f"observation.images.{c}"] = next(streams[c])
            ds.add_frame(frame)
        ds.save_episode()
        print(f"  built {root.name}: episode {e + 1}/{episodes}", end="\r", flush=True)
    ds.finalize()
    tmp.rename(root)
    print()
    return root


def random_access(root: Path, deltas: dict, n: int) -> float:
    ds = LeRobotDataset("bench/x", root=root, delta_timestamps=deltas, return_uint8=True)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(ds), n)
    for i in idx[:50]:  # warm the caches
        ds[int(i)]
    t = time.perf_counter()
    for i in idx:
        ds[int(i)]
    return n / (time.perf_counter() - t)


def decoder_floor(root: Path, frames_per_camera: dict[str, int], n: int) -> float:
    """Samples/s of the bare decoder asking the same frames at random times (no dataset code), 1 process."""
    meta = LeRobotDataset("bench/x", root=root).meta
    cache = DecoderCache()
    rng = np.random.default_rng(0)
    eps = meta.episodes
    t = time.perf_counter()
    for _ in range(n):
        ep = eps[int(rng.integers(len(eps)))]
        f = int(rng.integers(1, ep["length"]))
        for key, count in frames_per_camera.items():
            path = meta.video_file(key, ep[f"videos/{key}/chunk_index"], ep[f"videos/{key}/file_index"])
            times = [ep[f"videos/{key}/from_timestamp"] + (f - k) / meta.fps for k in reversed(range(count))]
            decode_frames(path, times, cache=cache)
    return n / (time.perf_counter() - t)


def dataloader_rate(root: Path, deltas: dict, batches: int, batch_size: int = 8, workers: int = 2) -> float:
    ds = LeRobotDataset("bench/x", root=root, delta_timestamps=deltas, return_uint8=True)
    loader = torch.utils.data.DataLoader(
        ds,
        batch_size=batch_size,
        shuffle=True,
        num_workers=workers,
        generator=torch.Generator().manual_seed(0),
        persistent_workers=False,
    )
    it = iter(loader)
    for _ in range(2):  # worker start-up is not what we measure
        next(it)
    t = time.perf_counter()
    for _ in range(batches):
        next(it)
    return batches * batch_size / (time.perf_counter() - t)


def build_million(root: Path, episodes: int = 2000, length: int = 500, dim: int = 14) -> Path:
    """A state-only 1,000,000-frame dataset written straight with pyarrow (the writer's per-episode path is for recording)."""
    if (root / "meta" / "info.json").exists():
        return root
    from robotlearn.datasets.features import DEFAULT_FEATURES, data_schema
    from robotlearn.datasets.metadata import write_json_atomic
    from robotlearn.datasets.writer import write_parquet_atomic, write_tasks

    shutil.rmtree(root, ignore_errors=True)
    features = {
        "observation.state": {"dtype": "float32", "shape": [dim], "names": None},
        "action": {"dtype": "float32", "shape": [dim], "names": None},
        **DEFAULT_FEATURES,
    }
    schema = data_schema(features)
    per_file = 100  # episodes per data file
    rng = np.random.default_rng(0)
    rows = []
    for file_no in range(episodes // per_file):
        groups = []
        for k in range(per_file):
            e = file_no * per_file + k
            start = e * length
            cols = {
                "observation.state": rng.standard_normal((length, dim)).astype(np.float32),
                "action": rng.standard_normal((length, dim)).astype(np.float32),
                "timestamp": (np.arange(length) / 50).astype(np.float32),
                "frame_index": np.arange(length),
                "episode_index": np.full(length, e),
                "index": np.arange(start, start + length),
                "task_index": np.zeros(length, np.int64),
            }
            arrays = [
                pa.FixedSizeListArray.from_arrays(pa.array(v.reshape(-1)), dim) if v.ndim > 1 else pa.array(v)
                for v in cols.values()
            ]
            groups.append(pa.Table.from_arrays(arrays, schema=schema))
            rows.append(
                {
                    "episode_index": e,
                    "tasks": ["bench"],
                    "length": length,
                    "data/chunk_index": 0,
                    "data/file_index": file_no,
                    "dataset_from_index": start,
                    "dataset_to_index": start + length,
                    "meta/episodes/chunk_index": 0,
                    "meta/episodes/file_index": 0,
                }
            )
        write_parquet_atomic(groups, root / f"data/chunk-000/file-{file_no:03d}.parquet", schema)
    episodes_table = pa.Table.from_pylist(rows)
    write_parquet_atomic([episodes_table], root / "meta/episodes/chunk-000/file-000.parquet", episodes_table.schema)
    write_tasks(["bench"], root)
    info = {
        "codebase_version": "v3.0",
        "robot_type": None,
        "total_episodes": episodes,
        "total_frames": episodes * length,
        "total_tasks": 1,
        "chunks_size": 1000,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 200,
        "fps": 50,
        "splits": {"train": f"0:{episodes}"},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": None,
        "features": features,
    }
    write_json_atomic(info, root / "meta/info.json")
    return root


def open_time(root: Path) -> tuple[float, float]:
    t = time.perf_counter()
    ds = LeRobotDataset("bench/x", root=root)
    opened = time.perf_counter() - t
    t = time.perf_counter()
    ds[len(ds) - 1]
    first = time.perf_counter() - t
    assert len(ds) == 1_000_000
    return opened, first


def recording(seconds: float = 5.0, fps: int = 30, vcodec: str = "libsvtav1") -> dict:
    root = BENCH_DATA / f"recording-{vcodec}"
    shutil.rmtree(root, ignore_errors=True)
    cams = {"a": (480, 640), "b": (480, 640), "c": (480, 640)}
    features = {
        "observation.state": {"dtype": "float32", "shape": (6,), "names": None},
        "action": {"dtype": "float32", "shape": (6,), "names": None},
        **{
            f"observation.images.{c}": {"dtype": "video", "shape": (h, w, 3), "names": ["height", "width", "channels"]}
            for c, (h, w) in cams.items()
        },
    }
    ds = LeRobotDataset.create("bench/rec", fps=fps, features=features, root=root, vcodec=vcodec)
    n = int(seconds * fps)
    frames = {c: list(camera_frames(n, h, w, seed=k)) for k, (c, (h, w)) in enumerate(cams.items())}
    latencies = []
    t0 = time.perf_counter()
    for i in range(n):
        frame = {"observation.state": np.zeros(6, np.float32), "action": np.zeros(6, np.float32), "task": "bench"}
        for c in cams:
            frame[f"observation.images.{c}"] = frames[c][i]
        t = time.perf_counter()
        ds.add_frame(frame)
        latencies.append(time.perf_counter() - t)
        time.sleep(max(0.0, t0 + (i + 1) / fps - time.perf_counter()))  # a 30 fps control loop
    t = time.perf_counter()
    ds.save_episode()
    save = time.perf_counter() - t
    ds.finalize()
    read = LeRobotDataset("bench/rec", root=root)
    return {
        "p99_ms": 1000 * float(np.percentile(latencies, 99)),
        "max_ms": 1000 * max(latencies),
        "save_s": save,
        "frames": len(read),
        "expected": n,
    }


def main() -> None:
    BENCH_DATA.mkdir(exist_ok=True)
    print("building benchmark datasets (cached in bench_data/) ...")
    pusht = build(BENCH_DATA / "pusht_like", 100, 150, 10, {"top": (96, 96)}, 2)
    aloha = build(
        BENCH_DATA / "aloha_like", 10, 400, 50, {"high": (480, 640), "left": (480, 640), "right": (480, 640)}, 14
    )
    million = build_million(BENCH_DATA / "million")

    rows = []
    pusht_deltas = {
        "observation.images.top": [-0.1, 0.0],
        "observation.state": [-0.1, 0.0],
        "action": [k / 10 for k in range(16)],
    }
    rows.append(
        (
            "pusht-like ds[i], random, 1 process",
            f"{random_access(pusht, pusht_deltas, 3000):,.0f} samples/s",
            f"{decoder_floor(pusht, {'observation.images.top': 2}, 3000):,.0f} samples/s",
            ">= 1,300",
        )
    )
    aloha_deltas = {"observation.images.high": [-0.02, 0.0], "action": [k / 50 for k in range(16)]}
    rows.append(
        (
            "aloha-like DataLoader, 2 workers, batch 8",
            f"{dataloader_rate(aloha, aloha_deltas, 40):,.0f} samples/s",
            f"{decoder_floor(aloha, {'observation.images.high': 2, 'observation.images.left': 1, 'observation.images.right': 1}, 100):,.0f} samples/s (1 process)",
            ">= 120",
        )
    )
    opened, first = open_time(million)
    rows.append(("open 1,000,000-frame dataset", f"{opened:.3f} s (first sample +{first:.3f} s)", "-", "< 2 s"))
    for vcodec in ("libsvtav1", "libx264"):
        rec = recording(vcodec=vcodec)
        rows.append(
            (
                f"record 3x480x640 @30fps, 5 s, {vcodec}",
                f"add_frame p99 {rec['p99_ms']:.2f} ms (max {rec['max_ms']:.1f}), save_episode {rec['save_s']:.3f} s, "
                f"{rec['frames']}/{rec['expected']} frames",
                "-",
                "p99 <= 5 ms, save <= 0.2 s, 0 dropped",
            )
        )
    width = [
        max(len(str(r[i])) for r in rows + [("benchmark", "robotlearn", "decode floor", "target")]) for i in range(4)
    ]

    def line(r):
        return " | ".join(str(c).ljust(w) for c, w in zip(r, width))

    print(line(("benchmark", "robotlearn", "decode floor", "target")))
    print("-+-".join("-" * w for w in width))
    for r in rows:
        print(line(r))


if __name__ == "__main__":
    main()
