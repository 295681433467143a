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
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from robotlearn.configs import parse_config
from robotlearn.scripts.robot_args import RobotArgs

ENV_STATE_KEY = "observation.environment_state"


@dataclass
class ReplayDatasetArgs:
    repo_id: str = field(default="local/recording", metadata={"help": "Dataset name 'user/name' (default root: $ROBOTLEARN_HOME/datasets/<repo_id>)."})
    root: str | None = field(default=None, metadata={"help": "Dataset folder."})
    episode: int = field(default=0, metadata={"help": "Index of the episode to replay."})
    realtime: bool = field(default=True, metadata={"help": "Play at the dataset's fps in wall-clock time (false: as fast as possible, simulated robots only)."})


@dataclass
class ReplayArgs:
    robot: RobotArgs = field(default_factory=RobotArgs)
    dataset: ReplayDatasetArgs = field(default_factory=ReplayDatasetArgs)
    play_sounds: bool = field(default=True, metadata={"help": "Announce the replay with a speech program if present."})


def load_episode_columns(root: Path, episode: int, columns: list[str]) -> dict[str, np.ndarray]:
    """`columns` of episode `episode`, ordered by frame_index, read straight from the Parquet files."""
    import pyarrow.dataset as pads

    data = pads.dataset(str(root / "data"), format="parquet")
    names = [c for c in columns if c in data.schema.names]
    table = data.to_table(columns=names + ["frame_index"], filter=pads.field("episode_index") == episode)
    order = np.argsort(table.column("frame_index").to_numpy())
    out = {}
    for name in names:
        values = np.array(table.column(name).to_pylist(), dtype=np.float64)
        out[name] = values[order].reshape(len(order), -1)
    return out


@dataclass
class ReplayReport:
    frames: int
    state_error: float | None = None  # max |replayed - recorded| of observation.state over the episode
    env_state_error: float | None = None  # same for observation.environment_state

    def summary(self) -> str:
        parts = [f"replayed {self.frames} actions"]
        if self.state_error is not None:
            parts.append(f"max |observation.state error| = {self.state_error:.6g}")
        if self.env_state_error is not None:
            parts.append(f"max |environment_state error| = {self.env_state_error:.6g}")
        return ", ".join(parts)


def replay(args: ReplayArgs) -> ReplayReport:
    import time

    from robotlearn.datasets import LeRobotDatasetMetadata
    from robotlearn.datasets.metadata import default_root
    from robotlearn.recording import build_dataset_frame, log_say, precise_sleep_until

    ds_args = args.dataset
    root = Path(ds_args.root) if ds_args.root else default_root(ds_args.repo_id)
    meta = LeRobotDatasetMetadata(ds_args.repo_id, root)
    if not 0 <= ds_args.episode < meta.total_episodes:
        raise SystemExit(f"--dataset.episode={ds_args.episode}: {root} has episodes 0..{meta.total_episodes - 1}")
    action_names = meta.features["action"]["names"]
    cols = load_episode_columns(root, ds_args.episode, ["action", "observation.state", ENV_STATE_KEY])
    actions = cols["action"]

    robot = args.robot.make()
    robot.connect()
    try:
        if action_names != list(robot.action_features):
            raise SystemExit(f"the dataset's actions are {action_names} but robot {robot.name} takes {list(robot.action_features)}")
        can_set = hasattr(robot, "reset_to_state") and ENV_STATE_KEY in cols
        if can_set:
            robot.reset_to_state(cols[ENV_STATE_KEY][0])
        elif hasattr(robot, "reset_episode") and ENV_STATE_KEY not in cols and hasattr(robot, "env"):
            print(f"note: the dataset has no {ENV_STATE_KEY}; the simulator starts from a random state")
        log_say(f"Replaying episode {ds_args.episode}", args.play_sounds)
        obs_feats = {k: v for k, v in meta.features.items() if k == "observation.state"}
        states, env_states = [], []
        period, next_tick = 1.0 / meta.fps, time.perf_counter()
        for action in actions:
            obs = robot.get_observation()
            if obs_feats:
                states.append(build_dataset_frame(obs_feats, obs, "observation")["observation.state"])
            if can_set:
                env_states.append(robot.get_extra_observation()[ENV_STATE_KEY])
            robot.send_action({name: float(v) for name, v in zip(action_names, action)})
            next_tick += period
            if ds_args.realtime:
                precise_sleep_until(next_tick)
    finally:
        robot.disconnect()
    report = ReplayReport(frames=len(actions))
    if states and "observation.state" in cols:
        report.state_error = float(np.max(np.abs(np.array(states, np.float64) - cols["observation.state"])))
    if env_states:
        report.env_state_error = float(np.max(np.abs(np.array(env_states, np.float64) - cols[ENV_STATE_KEY])))
    print(report.summary())
    return report


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    replay(parse_config(ReplayArgs, argv, prog="robotlearn replay", description=__doc__))
    return 0
