"""Run by test_distributed.py under torchrun: several `robotlearn train` runs in one process group.

    torchrun --standalone --nproc_per_node=2 tests/training/ddp_job.py '[["--policy.type=act", ...], [...]]'

Starting the gloo process group here (as `accelerate` does) and training each argv list in it
saves a launcher start per run; `train()` uses a group that is already started as is.
"""

from __future__ import annotations

import json
import sys

import torch.distributed as dist

from robotlearn.scripts.train import parse_args
from robotlearn.training import train


def main(argvs: list[list[str]]) -> int:
    dist.init_process_group("gloo")
    try:
        for argv in argvs:
            train(parse_args(argv))
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
