"""The reference's DataLoader rate on one of our benchmark datasets; run with the reference's Python.

    /path/to/lerobot-venv/bin/python benchmarks/reference_loader.py ROOT DELTAS_JSON INDICES_JSON WORKERS BATCH

Prints one JSON line: {"rate": samples/s, "version": lerobot's version, "backend": its video backend}.
It opens ROOT as a local dataset with the reference's defaults (its default video backend, float frames,
torch's default_collate), never the network (HF_HUB_OFFLINE), and times a DataLoader over the given
indices in order after 2 batches per worker, as bench_dataset.dataloader_rate does for robotlearn.
It imports nothing from robotlearn: the reference's environment need not have it. With torch 2.13 the
reference's torchvision import needs the change docs/datasets.md (Benchmarks) describes.
"""

import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")


def main() -> None:
    from importlib.metadata import version

    import torch
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    root, deltas, indices, workers, batch = sys.argv[1:6]
    deltas, indices, workers, batch = json.loads(deltas), json.loads(indices), int(workers), int(batch)
    ds = LeRobotDataset("bench/x", root=root, delta_timestamps=deltas)
    skip = 2 * workers * batch
    loader = torch.utils.data.DataLoader(ds, batch_size=batch, sampler=indices[:skip] + indices, num_workers=workers)
    it = iter(loader)
    for _ in range(2 * workers):
        next(it)
    t = time.perf_counter()
    for _batch in it:
        pass
    rate = len(indices) / (time.perf_counter() - t)
    print(json.dumps({"rate": rate, "version": version("lerobot"), "backend": ds.video_backend}))


if __name__ == "__main__":
    main()
