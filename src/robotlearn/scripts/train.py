"""`robotlearn train`: train a policy (ACT or Diffusion) on a LeRobotDataset, with exact resume.

    robotlearn train --policy.type=diffusion --dataset.repo_id=me/pusht --dataset.root=data/pusht \\
        --steps=5000 --batch_size=64 --output_dir=outputs/train/pusht_diffusion
    robotlearn train --output_dir=outputs/train/pusht_diffusion --resume --steps=10000   # continue
    robotlearn train --policy.type=vla --dataset.roots=data/lang_pusht,data/pusht --dataset.weights=0.7,0.3   # 2 datasets
    torchrun --nproc_per_node=2 -m robotlearn.scripts.cli train --device=cpu ...   # 2 processes (DDP)

`--policy.type=NAME --help` shows NAME's flags. With --resume the run's saved train_config.json
gives the defaults and the flags given apply on top. See docs/training.md.
"""

from __future__ import annotations

import logging

from robotlearn.configs import parse_config
from robotlearn.training import TrainConfig, saved_train_config, train

PROG = "robotlearn train"
CONFIG = TrainConfig


def _flag(argv: list[str], name: str) -> str | None:
    """The value of `--name=value`/`--name value`/bare `--name` (= "true") in argv, or None."""
    for i, arg in enumerate(argv):
        if arg == f"--{name}":
            nxt = argv[i + 1] if i + 1 < len(argv) else "--"
            return "true" if nxt.startswith("--") else nxt
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    return None


def parse_args(argv: list[str]) -> TrainConfig:
    """Flags -> TrainConfig; with --resume the saved config of --output_dir gives the defaults."""
    resume = (_flag(argv, "resume") or "false").lower() in ("1", "true", "yes", "y", "on")
    defaults = saved_train_config(_flag(argv, "output_dir") or TrainConfig.output_dir) if resume else None
    return parse_config(TrainConfig, argv, prog=PROG, description=__doc__, defaults=defaults)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = train(parse_args(argv))
    if result.rank == 0:  # under torchrun, the process that wrote the checkpoints
        checkpoint = result.checkpoint_dir
        print(
            f"checkpoint: {checkpoint}\nevaluate with: robotlearn eval --policy.path={checkpoint / 'pretrained_model'}"
        )
    return 0
