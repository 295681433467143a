"""`robotlearn run-policy` as a library call: `run_policy(RunPolicyConfig(...))` drives a robot with
chunks from a policy server, optionally recording the episodes as a dataset (`--dataset.root`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from robotlearn.errors import ConfigError
from robotlearn.inference.queue import DEFAULT_MERGE, MERGES
from robotlearn.robots import RobotConfig
from robotlearn.robots.sim_pusht import PushTRobotConfig


@dataclass
class RunDatasetConfig:
    """Record the run as a LeRobotDataset (as `record --policy.path` does); off unless --dataset.root is given."""

    root: str | None = None
    """Dataset folder to create (default: no recording)."""
    repo_id: str = "local/run_policy"
    """Dataset name 'user/name'."""
    single_task: str = "run policy"
    """Task description stored with every frame (also sent to the policy)."""
    video: bool = True
    """Store cameras as MP4 video (true) or PNG images (false)."""
    vcodec: str = "libsvtav1"
    """Video codec: libsvtav1, libx264, ..."""


@dataclass
class RunPolicyConfig:
    """`robotlearn run-policy`: run a robot from a policy server, planning ahead while it acts."""

    __removed_flags__ = {"robot.options": "the robot's own flags, e.g. --robot.image_size=64"}

    robot: RobotConfig = field(default_factory=PushTRobotConfig)
    server: str = "127.0.0.1:8765"
    """Policy server address HOST:PORT (robotlearn serve-policy)."""
    fps: int = 10
    """Control rate, Hz: one queued action executed per tick."""
    num_episodes: int = 1
    """Number of episodes."""
    episode_steps: int = 300
    """Actions executed per episode (idle ticks not counted)."""
    end_on_success: bool = True
    """Simulated robots that report success: end the episode at the first successful step."""
    n_action_steps: int = 8
    """Actions executed per chunk: the next observation is sent when the queue holds len(chunk) - n_action_steps."""
    threshold: int | None = None
    """Send the next observation when the queue holds this many actions or fewer (default: from n_action_steps)."""
    merge: str = DEFAULT_MERGE
    """How overlapping chunks merge: prefix (keep the committed action, then fade in the new chunk), weighted_average
    (0.3 old / 0.7 new), latest_only, average, conservative (0.7 old / 0.3 new)."""
    drop_stale: bool = True
    """Drop the actions whose tick passed while the chunk was computed (false: execute them late; not advised)."""
    action_prefix: bool = True
    """Send the actions queued for the ticks the last chunk took to arrive with each observation, for a policy trained with --policy.max_action_prefix to continue them."""
    sync: bool = False
    """Synchronous baseline: wait for each chunk with an empty queue (the robot idles), then execute n_action_steps."""
    request_timeout_s: float = 2.0
    """Give up waiting for a chunk after this many seconds and send a fresh observation."""
    reconnect_s: float = 0.2
    """Retry a lost server connection this often, seconds (the robot holds meanwhile)."""
    give_up_s: float = 30.0
    """Stop with an error when no server has answered for this long, seconds."""
    realtime_priority: int | None = None
    """Run the control loop under SCHED_FIFO at this priority (1-99; Linux, needs CAP_SYS_NICE): ticks stay on time on a busy machine."""
    token_file: str | None = None
    """File holding the server's token (default: $ROBOTLEARN_TOKEN)."""
    tls_ca: str | None = None
    """CA certificate file: connect over TLS and check the server's certificate."""
    seed: int | None = None
    """Noise seed base sent with each observation (same seed + observation -> same chunk); default: the server's RNG."""
    metrics_path: str | None = None
    """Write per-chunk timings, idle ticks and queue sizes as JSON here."""
    report_path: str | None = None
    """Write the same metrics as an HTML page with plots here."""
    dataset: RunDatasetConfig = field(default_factory=RunDatasetConfig)

    def __post_init__(self):
        if self.merge not in MERGES:
            raise ConfigError(f"--merge={self.merge!r}: choose one of {list(MERGES)}")
        if self.fps <= 0 or self.n_action_steps < 1:
            raise ConfigError(f"--fps={self.fps} must be > 0 and --n_action_steps={self.n_action_steps} >= 1")


def client_options(cfg: RunPolicyConfig):
    from robotlearn.inference.client import ClientOptions
    from robotlearn.transport import resolve_token

    return ClientOptions(
        fps=cfg.fps,
        n_action_steps=cfg.n_action_steps,
        threshold=cfg.threshold,
        merge=cfg.merge,
        drop_stale=cfg.drop_stale,
        request_timeout_s=cfg.request_timeout_s,
        reconnect_s=cfg.reconnect_s,
        give_up_s=cfg.give_up_s,
        realtime_priority=cfg.realtime_priority,
        token=resolve_token(cfg.token_file),
        tls_ca=cfg.tls_ca,
        seed=cfg.seed,
        sync=cfg.sync,
        action_prefix=cfg.action_prefix,
        task=cfg.dataset.single_task if cfg.dataset.root else None,
    )


def run_policy(cfg: RunPolicyConfig) -> list:
    """Connects to the server, runs `num_episodes` episodes, returns their EpisodeStats.

    Raises TransportError when the server cannot be reached, ConfigError for bad options."""
    from robotlearn.inference.client import RobotClient
    from robotlearn.inference.metrics import episode_metrics
    from robotlearn.robots import make_robot_from_config

    robot = make_robot_from_config(cfg.robot)
    client = RobotClient(robot, cfg.server, client_options(cfg))
    client.connect()
    dataset = _open_dataset(cfg, robot) if cfg.dataset.root else None
    results = []
    robot.connect()
    try:
        for episode in range(cfg.num_episodes):
            on_tick = _recorder(dataset, cfg.dataset.single_task) if dataset is not None else None
            stats = client.run_episode(episode, cfg.episode_steps, on_tick=on_tick, end_on_success=cfg.end_on_success)
            if dataset is not None:
                dataset.save_episode()
            results.append(stats)
            print(stats.summary())
    finally:
        client.close()
        if robot.is_connected:
            robot.disconnect()
        if dataset is not None:
            dataset.finalize()
    metrics = [episode_metrics(s, cfg.fps) for s in results]
    if cfg.metrics_path:
        Path(cfg.metrics_path).parent.mkdir(parents=True, exist_ok=True)
        Path(cfg.metrics_path).write_text(json.dumps(metrics, indent=1))
    if cfg.report_path:
        from robotlearn.inference.report import write_inference_report

        write_inference_report(cfg.report_path, metrics, title=f"run-policy against {cfg.server}")
    return results


def _open_dataset(cfg: RunPolicyConfig, robot):
    from robotlearn.datasets import LeRobotDataset
    from robotlearn.recording.session import RecordDatasetConfig, dataset_features

    args = RecordDatasetConfig(
        repo_id=cfg.dataset.repo_id,
        root=cfg.dataset.root,
        fps=cfg.fps,
        video=cfg.dataset.video,
        vcodec=cfg.dataset.vcodec,
        capture_time=False,
    )
    root = Path(cfg.dataset.root)
    if root.exists() and any(root.iterdir()):
        raise ConfigError(f"--dataset.root={root} already exists: choose another folder")
    return LeRobotDataset.create(
        cfg.dataset.repo_id,
        cfg.fps,
        dataset_features(robot, args),
        root=root,
        robot_type=robot.name,
        use_videos=cfg.dataset.video,
        vcodec=cfg.dataset.vcodec,
    )


def _recorder(dataset, task: str):
    """on_tick callback storing (observation, executed action) frames; idle ticks store nothing."""
    from robotlearn.recording.record_loop import build_dataset_frame

    features = dataset.meta.features

    def on_tick(tick, frame, sent):
        if sent is None:
            return
        obs = {k: v for k, v in frame.items() if k in features}
        dataset.add_frame({**obs, **build_dataset_frame(features, sent, "action"), "task": task})

    return on_tick
