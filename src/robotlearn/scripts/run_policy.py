"""`robotlearn run-policy`: run a robot from a policy server; it plans the next chunk while the robot acts.

    robotlearn run-policy --robot.type=sim_pusht --server=127.0.0.1:8765 --num_episodes=2

Executes the action queue at --fps, sends a fresh observation when the queue runs low, drops the
actions whose time has passed, merges overlapping chunks (--merge), holds the robot when the queue
empties or the server vanishes and reconnects. --dataset.root records the run. See docs/inference.md.
"""

from __future__ import annotations

from robotlearn.configs import parse_config
from robotlearn.inference.run import RunPolicyConfig, run_policy

CONFIG = RunPolicyConfig


def main(argv: list[str]) -> int:
    cfg = parse_config(RunPolicyConfig, argv, prog="robotlearn run-policy", description=__doc__)
    run_policy(cfg)
    return 0
