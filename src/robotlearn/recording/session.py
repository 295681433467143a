"""A recording session: episodes from a robot, driven by a teleoperator or a policy, into a
LeRobotDataset (`robotlearn record` is `record(parse_config(RecordConfig, argv))`).

    from robotlearn.recording.session import RecordConfig, RecordDatasetConfig, record
    dataset = record(RecordConfig(teleop=ScriptedPushTConfig(), dataset=RecordDatasetConfig(
        root="data/pusht", single_task="push the T", num_episodes=10, reset_time_s=0, fps=10, realtime=False)))

Keys while recording (in the terminal): right arrow (or n) ends the episode early, left arrow (or r)
re-records it, escape (or q) stops. Each saved episode is durable at once; `resume` appends to an
existing dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from robotlearn.errors import ConfigError
from robotlearn.robots import RobotConfig, make_robot_from_config
from robotlearn.robots.sim_pusht import PushTRobotConfig
from robotlearn.robots.sim_robot import SimRobot
from robotlearn.teleoperators import TeleoperatorConfig, make_teleoperator_from_config

REMOVED_DEVICE_FLAGS = {
    "robot.options": "the robot's own flags, e.g. --robot.image_size=64 (`--robot.type=NAME --help` lists them)",
    "teleop.options": "the teleoperator's own flags (`--teleop.type=NAME --help` lists them)",
}


@dataclass
class RecordDatasetConfig:
    """The dataset the episodes go to, and how episodes are timed."""

    repo_id: str = "local/recording"
    """Dataset name 'user/name' (used for the Hub and the default root)."""
    root: str | None = None
    """Dataset folder (default: $ROBOTLEARN_HOME/datasets/<repo_id>)."""
    single_task: str | None = None
    """Task description stored with every frame, e.g. 'push the T' (required, except with a multi-task simulator,
    sim_lang_pusht or sim_metaworld, which stores each episode's own instruction)."""
    num_episodes: int = 50
    """Number of episodes to record."""
    episode_time_s: float = 60.0
    """Length of each episode, seconds (frames = episode_time_s * fps)."""
    end_on_success: bool = True
    """Simulated robots that report success (sim_pusht): end the episode at the first successful frame instead of
    running out the time."""
    reset_time_s: float = 60.0
    """Time between episodes to reset the scene, seconds (teleoperation continues, nothing is stored)."""
    fps: int = 30
    """Control and recording rate, frames per second."""
    video: bool = True
    """Store cameras as MP4 video (true) or PNG images in the Parquet files (false)."""
    vcodec: str = "libsvtav1"
    """Video codec: libsvtav1 (AV1, the format's default), libx264, libopenh264, ..."""
    image_writer_threads: int = 4
    """Threads encoding PNG images (with --dataset.video=false)."""
    capture_time: bool = True
    """Also store the measured capture time of each frame as observation.capture_time (seconds since episode
    start)."""
    env_state: bool = True
    """Simulated robots: also store the full simulator state (observation.environment_state), for exact replay."""
    rewards: bool = False
    """Simulated robots: also store next.reward, next.success and next.done (success ends an episode), for RL."""
    realtime: bool = True
    """Run at --dataset.fps in wall-clock time. false: simulated robots run as fast as possible (same frames)."""
    push_to_hub: bool = False
    """Upload the dataset to the Hugging Face Hub at the end (needs network and a token)."""
    private: bool = False
    """With --dataset.push_to_hub: create a private repository."""


@dataclass
class RecordPolicyConfig:
    """A trained policy that drives the robot instead of a teleoperator."""

    path: str | None = None
    """Its pretrained_model folder (or a checkpoint/training output folder)."""
    device: str = "cpu"
    """Device for the policy: cpu, cuda, mps."""


@dataclass
class RecordConfig:
    """`robotlearn record`: record episodes from a robot into a dataset."""

    __removed_flags__ = REMOVED_DEVICE_FLAGS

    robot: RobotConfig = field(default_factory=PushTRobotConfig)
    teleop: TeleoperatorConfig | None = None
    dataset: RecordDatasetConfig = field(default_factory=RecordDatasetConfig)
    policy: RecordPolicyConfig = field(default_factory=RecordPolicyConfig)
    resume: bool = False
    """Append episodes to the existing dataset at --dataset.root instead of creating a new one."""
    display_data: str = "false"
    """Cameras and joint values in rerun (extra 'viz'): true shows them live, save:PATH writes an .rrd file (no display)."""
    play_sounds: bool = True
    """Announce episodes with a speech program (spd-say/say/espeak) if present."""

    def __post_init__(self):
        display_target(self.display_data)  # rejects a bad value before anything starts

    @property
    def display(self) -> tuple[bool, str | None]:
        """(log to rerun?, .rrd path to save to or None for the live viewer), from --display_data."""
        return display_target(self.display_data)


def display_target(value: str | bool) -> tuple[bool, str | None]:
    """--display_data: "false" -> (False, None), "true" -> (True, None), "save:PATH" -> (True, PATH)."""
    text = str(value).strip()
    if text.lower() in ("false", "0", "no", "off", ""):
        return False, None
    if text.lower() in ("true", "1", "yes", "on"):
        return True, None
    if text.startswith("save:") and text[5:].strip():
        return True, text[5:].strip()
    raise ConfigError(
        f"--display_data={value!r}: use true (live rerun viewer), false, or save:PATH (write an .rrd file)"
    )


def dataset_features(robot, args: RecordDatasetConfig) -> dict:
    """Features of the dataset recorded from `robot`: action, observation.state, cameras, and the
    optional capture time and simulator state."""
    from robotlearn.recording import capture_time_feature, hw_to_dataset_features

    features = {
        **hw_to_dataset_features(robot.action_features, "action", use_video=args.video),
        **hw_to_dataset_features(robot.observation_features, "observation", use_video=args.video),
    }
    if args.capture_time:
        features.update(capture_time_feature())
    if args.env_state:
        features.update(robot.extra_dataset_features if isinstance(robot, SimRobot) else {})
    if args.rewards and isinstance(robot, SimRobot):
        from robotlearn.recording.features import reward_features

        features.update(reward_features())
    return features


def _open_dataset(args: RecordConfig, robot, features: dict):
    from robotlearn.datasets import LeRobotDataset
    from robotlearn.datasets.metadata import default_root

    ds_args = args.dataset
    root = Path(ds_args.root) if ds_args.root else default_root(ds_args.repo_id)
    if args.resume:
        dataset = LeRobotDataset.resume(
            ds_args.repo_id, root, vcodec=ds_args.vcodec, image_writer_threads=ds_args.image_writer_threads
        )
        missing = {k: v for k, v in features.items() if k not in dataset.meta.features}
        mismatched = [
            k
            for k, v in features.items()
            if k in dataset.meta.features
            and (
                list(dataset.meta.features[k]["shape"]) != list(v["shape"])
                or dataset.meta.features[k].get("names") != v.get("names")
            )
        ]
        if mismatched or any(k in ("action", "observation.state") or ".images." in k for k in missing):
            raise ConfigError(
                f"--resume: the dataset at {root} was recorded with other features ({sorted(dataset.meta.features)}); "
                f"this robot gives {sorted(features)} (mismatched: {mismatched or sorted(missing)}). "
                f"Record into a new --dataset.root."
            )
        if dataset.meta.fps != ds_args.fps:
            raise ConfigError(
                f"--resume: the dataset at {root} has fps={dataset.meta.fps}; pass --dataset.fps={dataset.meta.fps}"
            )
        return dataset
    if root.exists() and any(root.iterdir()):
        raise ConfigError(f"{root} already exists: pass --resume to append episodes, or choose another --dataset.root")
    return LeRobotDataset.create(
        ds_args.repo_id,
        ds_args.fps,
        features,
        root=root,
        robot_type=robot.name,
        use_videos=ds_args.video,
        image_writer_threads=ds_args.image_writer_threads,
        vcodec=ds_args.vcodec,
    )


def _load_policy(args: RecordPolicyConfig):
    from robotlearn.policies.factory import make_policy_from_pretrained

    return make_policy_from_pretrained(args.path, device=args.device)


def _sim_result(robot) -> str:
    info = (robot.last_info or {}) if isinstance(robot, SimRobot) else {}
    if "coverage" in info:
        return f", success={bool(info.get('is_success'))} coverage={info['coverage']:.2f}"
    return ""


def record(args: RecordConfig):
    """Runs a recording session; returns the dataset (finalized).

    Raises ConfigError for a missing task, teleoperator/policy or a dataset that cannot be appended to."""
    from tqdm import tqdm

    from robotlearn.recording import init_keyboard_listener, init_rerun, log_say, record_loop

    ds_args = args.dataset
    robot = make_robot_from_config(args.robot)
    if not ds_args.single_task and not getattr(robot, "names_episode_tasks", False):
        raise ConfigError(
            '--dataset.single_task is required: describe the task, e.g. --dataset.single_task="push the T"'
        )
    policy = _load_policy(args.policy) if args.policy.path else None
    teleop = None
    if policy is None and args.teleop is not None:
        teleop = make_teleoperator_from_config(args.teleop, robot=robot)
    if policy is None and teleop is None:
        raise ConfigError(
            "give a teleoperator (--teleop.type=..., e.g. scripted_pusht for sim_pusht) or a policy (--policy.path=...)"
        )
    features = dataset_features(robot, ds_args)
    dataset = _open_dataset(args, robot, features)
    if args.resume and getattr(robot.config, "seed", None) is not None and dataset.meta.total_episodes:
        # A resumed session must not replay the first session's initial states.
        robot.config.seed += dataset.meta.total_episodes
        print(
            f"--resume: simulator seed offset by {dataset.meta.total_episodes} existing episodes -> {robot.config.seed}"
        )
    listener, events = init_keyboard_listener(use_arrows=(args.teleop is None or args.teleop.type != "keyboard"))
    display, save_path = args.display
    if display:
        display = init_rerun(session_name="recording", save_path=save_path)
    say = lambda text: log_say(text, args.play_sounds)  # noqa: E731
    loop = dict(
        robot=robot,
        events=events,
        fps=ds_args.fps,
        teleop=teleop,
        policy=policy,
        single_task=ds_args.single_task,
        display_data=display,
        realtime=ds_args.realtime,
    )

    robot.connect()
    try:
        if teleop is not None:
            teleop.connect()
        first = dataset.meta.total_episodes
        recorded = 0
        n_frames = int(round(ds_args.episode_time_s * ds_args.fps))
        while recorded < ds_args.num_episodes and not events["stop_recording"]:
            index = first + recorded
            say(f"Recording episode {index}")
            bar = tqdm(
                total=n_frames,
                desc=f"episode {index} ({recorded + 1}/{ds_args.num_episodes})",
                unit="frame",
                leave=False,
                dynamic_ncols=True,
            )
            stats = record_loop(
                dataset=dataset,
                control_time_s=ds_args.episode_time_s,
                on_step=bar.update,
                end_on_success=ds_args.end_on_success,
                **loop,
            )
            bar.close()
            result = _sim_result(robot)
            if events["rerecord_episode"]:
                say("Re-recording episode")
                events["rerecord_episode"] = False
                events["exit_early"] = False
                dataset.clear_episode_buffer()
            elif stats.frames == 0 or events["stop_recording"] and stats.frames < 2:
                dataset.clear_episode_buffer()
            else:
                dataset.save_episode()
                recorded += 1
                tqdm.write(f"episode {index}: {stats.summary()}{result}")
                if events["stop_recording"]:
                    break
            last = recorded >= ds_args.num_episodes
            if not events["stop_recording"] and not last and ds_args.reset_time_s > 0:
                say("Reset the environment")
                record_loop(control_time_s=ds_args.reset_time_s, **loop)
    finally:
        listener.stop()
        say("Stop recording")
        if teleop is not None and teleop.is_connected:
            teleop.disconnect()
        if robot.is_connected:
            robot.disconnect()
        dataset.finalize()
        if display and save_path:
            from robotlearn.recording.feedback import close_rerun

            close_rerun()
            print(f"rerun recording: {save_path} (open it with: rerun {save_path})")
    print(f"dataset: {dataset.meta.root} ({dataset.meta.total_episodes} episodes, {dataset.meta.total_frames} frames)")
    if ds_args.push_to_hub:
        dataset.push_to_hub(private=ds_args.private)
    return dataset
