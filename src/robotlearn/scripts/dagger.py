"""`robotlearn dagger`: behaviour cloning on PushT demonstrations, then DAgger rounds in which the
scripted expert labels the states the policy visits (appended to a copy of the demonstrations).

    robotlearn dagger --train.dataset.root=data/pusht_expert --train.policy.type=diffusion \\
        --train.policy.input_features='["observation.state","observation.environment_state"]' \\
        --train.steps=3000 --train.batch_size=256 --rounds=3 --episodes_per_round=20 --steps_per_round=1000 \\
        --output_dir=outputs/dagger/pusht_diffusion
    robotlearn eval --policy.path=outputs/dagger/pusht_diffusion/train/checkpoints/last/pretrained_model

`--init_from=DIR` starts from an existing `robotlearn train` run instead of training first. See
docs/training.md ("DAgger").
"""

from __future__ import annotations

import logging

from robotlearn.configs import parse_config
from robotlearn.training.dagger import DaggerConfig, dagger

PROG = "robotlearn dagger"
CONFIG = DaggerConfig


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    result = dagger(parse_config(DaggerConfig, argv, prog=PROG, description=__doc__))
    policy = result.checkpoint_dir / "pretrained_model"
    print(
        f"dataset: {result.dataset_root}\ncheckpoint: {result.checkpoint_dir}\n"
        f"evaluate with: robotlearn eval --policy.path={policy}"
    )
    return 0
