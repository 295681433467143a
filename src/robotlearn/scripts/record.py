r"""`robotlearn record`: record episodes from a robot, driven by a teleoperator or a policy, into a
LeRobotDataset.

    # simulated PushT with its scripted expert, as fast as the CPU allows
    robotlearn record --robot.type=sim_pusht --teleop.type=scripted_pusht \
        --dataset.root=data/pusht_demo --dataset.num_episodes=10 --dataset.episode_time_s=30 \
        --dataset.reset_time_s=0 --dataset.fps=10 --dataset.single_task="push the T" --dataset.realtime=false

    # SO-100 arm with its leader arm and a camera
    robotlearn record --robot.type=so100_follower --robot.port=/dev/ttyACM0 --robot.id=follower \
        --robot.cameras='{"front": {"type": "opencv", "index_or_path": 0, "width": 640, "height": 480, "fps": 30}}' \
        --teleop.type=so100_leader --teleop.port=/dev/ttyACM1 --teleop.id=leader \
        --dataset.repo_id=me/pick_cube --dataset.num_episodes=20 --dataset.single_task="pick the cube"

Keys while recording (in the terminal): right arrow (or n) ends the episode early, left arrow (or r)
re-records it, escape (or q) stops. Each saved episode is durable at once; `--resume` appends to an
existing dataset.
"""

from __future__ import annotations

import logging

from robotlearn.configs import parse_config
from robotlearn.recording.session import RecordConfig, record

CONFIG = RecordConfig


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    record(parse_config(RecordConfig, argv, prog="robotlearn record", description=__doc__))
    return 0
