"""Replay the recorded actions of one episode on a robot, at the dataset's fps
(`robotlearn replay` is `replay(parse_config(ReplayConfig, argv))`).

Simulated robots that can be set to a state start from the episode's recorded
`observation.environment_state`, so the replay reproduces the episode; the report then says how
closely the replayed `observation.state` (and simulator state) track the recorded ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from robotlearn.errors import ConfigError
from robotlearn.recording.session import REMOVED_DEVICE_FLAGS
from robotlearn.robots import RobotConfig, make_robot_from_config
from robotlearn.robots.sim_pusht import PushTRobotConfig
from robotlearn.robots.sim_robot import SimRobot

ENV_STATE_KEY = "observation.environment_state"


@dataclass
class ReplayDatasetConfig:
    """Which recorded episode to replay."""

    repo_id: str = "local/recording"
    """Dataset name 'user/name' (default root: $ROBOTLEARN_HOME/datasets/<repo_id>)."""
    root: str | None = None
    """Dataset folder."""
    episode: int = 0
    """Index of the episode to replay."""
    realtime: bool = True
    """Play at the dataset's fps in wall-clock time (false: as fast as possible, simulated robots only)."""


@dataclass
class ReplayConfig:
    """`robotlearn replay`: send a recorded episode's actions to a robot."""

    __removed_flags__ = REMOVED_DEVICE_FLAGS

    robot: RobotConfig = field(default_factory=PushTRobotConfig)
    dataset: ReplayDatasetConfig = field(default_factory=ReplayDatasetConfig)
    play_sounds: bool = True
    """Announce the replay with a speech program if present."""


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


def replay(args: ReplayConfig) -> ReplayReport:
    """Sends episode `args.dataset.episode`'s actions to the robot; returns how closely it tracked.

    Raises ConfigError for an episode index out of range or actions the robot does not take."""
    import time

    from robotlearn.datasets import LeRobotDatasetMetadata
    from robotlearn.datasets.metadata import default_root
    from robotlearn.recording import build_dataset_frame, log_say, precise_sleep_until

    ds_args = args.dataset
    root = Path(ds_args.root) if ds_args.root else default_root(ds_args.repo_id)
    meta = LeRobotDatasetMetadata(ds_args.repo_id, root)
    if not 0 <= ds_args.episode < meta.total_episodes:
        raise ConfigError(f"--dataset.episode={ds_args.episode}: {root} has episodes 0..{meta.total_episodes - 1}")
    action_names = meta.features["action"]["names"]
    cols = load_episode_columns(root, ds_args.episode, ["action", "observation.state", ENV_STATE_KEY])
    actions = cols["action"]

    robot = make_robot_from_config(args.robot)
    robot.connect()
    try:
        if action_names != list(robot.action_features):
            raise ConfigError(
                f"the dataset's actions are {action_names} but robot {robot.name} takes {list(robot.action_features)}"
            )
        is_sim = isinstance(robot, SimRobot)
        can_set = is_sim and robot.can_reset_to_state and ENV_STATE_KEY in cols
        if can_set:
            robot.reset_to_state(cols[ENV_STATE_KEY][0])
        elif is_sim and robot.can_reset_to_state and ENV_STATE_KEY not in cols:
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
    return report
