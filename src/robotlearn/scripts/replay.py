r"""`robotlearn replay`: send the recorded actions of one episode to a robot, at the dataset's fps.

    robotlearn replay --robot.type=sim_pusht --dataset.root=data/pusht_demo --dataset.episode=0
    robotlearn replay --robot.type=so100_follower --robot.port=/dev/ttyACM0 --robot.id=follower \
        --dataset.repo_id=me/pick_cube --dataset.episode=3

Simulated robots that can be set to a state (`reset_to_state`) start from the episode's recorded
`observation.environment_state`, so the replay reproduces the episode; the command then reports
how closely the replayed `observation.state` (and simulator state) track the recorded ones.
"""

from __future__ import annotations

import logging

from robotlearn.configs import parse_config
from robotlearn.recording.replay import ReplayConfig, replay

CONFIG = ReplayConfig


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    print(replay(parse_config(ReplayConfig, argv, prog="robotlearn replay", description=__doc__)).summary())
    return 0
