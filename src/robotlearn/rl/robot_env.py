"""A robot as an RL task (`--env.type=robot`): the actor drives a real arm (or `sim_arm`) at a fixed rate.

    robotlearn rl-actor --env.type=robot --env.robot.type=so100_follower --env.robot.port=/dev/ttyACM0 \\
        --env.robot.id=follower1 --env.stats_root=data/so100_demos --env.reward_classifier=outputs/reward/so100 ...

Observations and actions are what `robotlearn record` stores for the same robot (recording's
`hw_to_dataset_features`): `observation.state` (its scalar readings, in order), one
`observation.images.<camera>` per camera (H, W, 3) uint8, and `action` (its action features, in
order, named in `action_names`), so a dataset recorded with the robot is this task's demo dataset.

- Action range: with `stats_root` (a dataset recorded with this robot, e.g. the demonstrations), the
  per-joint action min/max it holds, and its statistics normalize the policy's inputs; otherwise
  `action_low`/`action_high` (one value or one per joint) and the state normalized by that range.
- Reward: 1 when the person at the robot presses `success_key` (read from the terminal), or when
  `reward_classifier` (a `robotlearn train-reward-classifier` output) sees success on the cameras;
  the episode ends there (`terminate_on_success`); otherwise 0. The actor's `--dataset.root` stores
  these as `next.success`, the labels `train-reward-classifier` learns from.
- Cameras: `image_size` > 0 resizes every camera's frames to image_size x image_size (SAC's encoder
  wants small images; the stats_root dataset may hold them at any size).
- Timing: `step` sends the action, waits for the next tick of `fps`, then reads the observation.
  `reset` gives the human `reset_time_s` to reset the scene (nothing is sent meanwhile); a
  simulated robot starts a new episode itself (`SimRobot.reset_episode`).
- `render()` is the first camera's latest frame (black without a camera).
- `hold()` (the emergency stop): the joints' present positions become their goals; a robot held so
  keeps its torque on when the actor disconnects it.

The robot is connected by the first `reset()` (the learner builds the task only to read its
features and never connects it).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from robotlearn.envs.configs import EnvConfig
from robotlearn.errors import ConfigError
from robotlearn.recording.features import build_dataset_frame, hw_to_dataset_features
from robotlearn.rl.safety import key_name
from robotlearn.robots import RobotConfig, SimRobot, make_robot_from_config
from robotlearn.robots.sim_arm import SimArmConfig

log = logging.getLogger(__name__)


@dataclass
class RobotEnvConfig(EnvConfig):
    """A robot driven at a fixed rate, with its recorded dataset's statistics and an optional reward classifier."""

    type: str = "robot"
    """Environment name."""
    robot: RobotConfig = field(default_factory=SimArmConfig)
    """The robot (--env.robot.type=so100_follower --env.robot.port=...; default the simulated arm)."""
    fps: int = 10
    """Control rate, Hz."""
    stats_root: str | None = None
    """A LeRobotDataset recorded with this robot: its statistics normalize inputs and give the action range."""
    action_low: list[float] = field(default_factory=lambda: [-100.0])
    """Lowest action without stats_root, action units: one value or one per joint."""
    action_high: list[float] = field(default_factory=lambda: [100.0])
    """Highest action without stats_root, action units: one value or one per joint."""
    image_size: int = 0
    """Resize every camera's frames to this square size, pixels (0: as captured)."""
    success_key: str | None = None
    """Key the person at the robot presses on success: reward 1, the episode ends (null: none)."""
    reward_classifier: str | None = None
    """Folder of a trained reward classifier (robotlearn train-reward-classifier) giving the reward."""
    terminate_on_success: bool = True
    """End the episode when the reward classifier sees success."""
    reset_time_s: float = 0.0
    """Time given to reset the scene before each episode, seconds (nothing is sent meanwhile)."""


def _broadcast(value, n: int, flag: str) -> np.ndarray:
    array = np.asarray(value, np.float64).reshape(-1)
    if array.size == 1:
        return np.full(n, array[0])
    if array.size != n:
        raise ConfigError(f"--env.{flag} has {array.size} values; the robot has {n} actions (give 1 or {n})")
    return array


class RobotEnv:
    config_class = RobotEnvConfig

    @classmethod
    def from_config(cls, config: RobotEnvConfig, max_steps: int | None = None) -> RobotEnv:
        return cls(config, max_steps=max_steps)

    def __init__(self, config: RobotEnvConfig, max_steps: int | None = None):
        from gymnasium import spaces

        self.config = config
        self.fps = config.fps
        self.max_steps = max_steps
        self.robot = make_robot_from_config(config.robot)
        self.features = {
            **hw_to_dataset_features(self.robot.action_features, "action"),
            **hw_to_dataset_features(self.robot.observation_features, "observation"),
        }
        self.camera_keys = [k for k in self.features if ".images." in k]
        if config.image_size > 0:
            for key in self.camera_keys:
                c = self.features[key]["shape"][2]
                self.features[key] = {**self.features[key], "shape": (config.image_size, config.image_size, c)}
        self.action_names = list(self.features["action"]["names"])
        self._stats = None
        n = len(self.action_names)
        if config.stats_root is not None:
            low, high = self._load_stats(config.stats_root)
        else:
            low = _broadcast(config.action_low, n, "action_low")
            high = _broadcast(config.action_high, n, "action_high")
        if np.any(low >= high):
            raise ConfigError(f"the robot's action range is empty: low {low.tolist()} >= high {high.tolist()}")
        self.action_space = spaces.Box(low.astype(np.float32), high.astype(np.float32), dtype=np.float32)
        self.classifier = None
        if config.reward_classifier is not None:
            from robotlearn.rl.reward_classifier import RewardClassifier

            self.classifier = RewardClassifier.from_pretrained(config.reward_classifier)
            missing = [k for k in self.classifier.config.image_keys if k not in self.features]
            if missing:
                raise ConfigError(
                    f"--env.reward_classifier looks at {missing}; the robot's cameras are "
                    f"{[k for k in self.features if '.images.' in k]}"
                )
        self.steps = 0
        self.held = False
        self._next_tick = 0.0
        self._last_obs: dict = {}
        self._success = threading.Event()
        self._keys = None
        self.success_key = None
        if config.success_key is not None:
            from robotlearn.utils.terminal_keys import TerminalKeys

            self.success_key = key_name("env.success_key", config.success_key)
            self._keys = TerminalKeys.get()
            if not self._keys.subscribe(self._on_key):
                self._keys = None

    def _on_key(self, key: str) -> None:
        if key == self.success_key:
            self._success.set()

    def _load_stats(self, root: str) -> tuple[np.ndarray, np.ndarray]:
        from robotlearn.datasets.metadata import LeRobotDatasetMetadata

        meta = LeRobotDatasetMetadata("local/stats", root=root, download=False)
        for key, ft in self.features.items():
            have = meta.features.get(key)
            resized = key in self.camera_keys and have is not None  # a camera may have been recorded larger
            if (
                have is None
                or (not resized and list(have["shape"]) != list(ft["shape"]))
                or have.get("names") != ft.get("names")
            ):
                raise ConfigError(
                    f"--env.stats_root={root}: its {key!r} is {have and (have['shape'], have.get('names'))}; "
                    f"the robot gives {(list(ft['shape']), ft.get('names'))}: record the dataset with this robot"
                )
        self._stats = {
            k: {s: np.asarray(v) for s, v in meta.stats[k].items()} for k in self.features if k in meta.stats
        }
        action = self._stats.get("action", {})
        if "min" not in action or "max" not in action:
            raise ConfigError(f"--env.stats_root={root}: the dataset has no action min/max statistics")
        return action["min"].astype(np.float64).reshape(-1), action["max"].astype(np.float64).reshape(-1)

    def dataset_meta(self) -> SimpleNamespace:
        """Features and statistics for building a policy: the stats_root dataset's, else the action
        range's (the state, in action units, normalized by it; cameras by 0.5 +- 0.25)."""
        if self._stats is not None:
            return SimpleNamespace(features=self.features, stats=self._stats, fps=self.fps)
        low, high = (np.asarray(b, np.float64) for b in (self.action_space.low, self.action_space.high))
        stats = {"action": {"min": low, "max": high, "mean": (low + high) / 2, "std": (high - low) / 2}}
        state = self.features.get("observation.state")
        if state is not None:
            n = state["shape"][0]
            same = n == len(low)
            stats["observation.state"] = {
                "mean": (low + high) / 2 if same else np.zeros(n),
                "std": (high - low) / 2 if same else np.ones(n),
            }
        for key in self.features:
            if ".images." in key:
                stats[key] = {"mean": np.full((3, 1, 1), 0.5), "std": np.full((3, 1, 1), 0.25)}
        return SimpleNamespace(features=self.features, stats=stats, fps=self.fps)

    def _observation(self) -> tuple[dict, dict]:
        values = self.robot.get_observation()
        obs = build_dataset_frame(self.features, values, "observation")
        if self.config.image_size > 0:
            from PIL import Image

            size = self.config.image_size
            for key in self.camera_keys:
                frame = np.asarray(obs[key])
                if frame.shape[:2] != (size, size):
                    obs[key] = np.asarray(Image.fromarray(frame).resize((size, size), Image.BILINEAR))
        self._last_obs = obs
        return obs, values

    def render(self) -> np.ndarray:
        """The first camera's latest frame (H, W, 3) uint8; black 96 x 96 without a camera."""
        for key in self.camera_keys:
            if key in self._last_obs:
                return np.asarray(self._last_obs[key], np.uint8)
        return np.zeros((96, 96, 3), np.uint8)

    def reset(self, seed: int | None = None) -> tuple[dict, dict]:
        """Connects the robot (first call), waits `reset_time_s`, returns the first observation."""
        if not self.robot.is_connected:
            self.robot.connect()
        elif self.config.reset_time_s > 0:
            time.sleep(self.config.reset_time_s)
        if isinstance(self.robot, SimRobot):
            self.robot.reset_episode()
        self.steps = 0
        self._success.clear()
        self._next_tick = time.monotonic()
        obs, _ = self._observation()
        return obs, {"is_success": False}

    def step(self, action) -> tuple[dict, float, bool, bool, dict]:
        action = np.asarray(action, np.float64).reshape(-1)
        self.robot.send_action({name: float(v) for name, v in zip(self.action_names, action)})
        self._next_tick += 1.0 / self.fps
        time.sleep(max(0.0, self._next_tick - time.monotonic()))
        self._next_tick = max(
            self._next_tick, time.monotonic() - 1.0 / self.fps
        )  # a late step does not make later ones rush
        obs, _ = self._observation()
        self.steps += 1
        success = self._success.is_set()
        self._success.clear()
        if self.classifier is not None and not success:
            from robotlearn.rl.classifier_reward import classifier_sees_success

            success = classifier_sees_success(self.classifier, obs)
        terminated = success and self.config.terminate_on_success
        truncated = self.max_steps is not None and self.steps >= self.max_steps
        return obs, float(success), terminated, truncated, {"is_success": success}

    def hold(self) -> None:
        """Emergency stop: the joints' present positions become their goals (nothing else is sent)."""
        if hasattr(self.robot, "hold_present_pose"):
            self.robot.hold_present_pose()
        else:
            values = self.robot.get_observation()
            self.robot.send_action({n: float(values[n]) for n in self.action_names if n in values})
        self.held = True

    def close(self) -> None:
        if self._keys is not None:
            self._keys.unsubscribe(self._on_key)
            self._keys = None
        if self.robot.is_connected:
            if self.held and getattr(self.robot.config, "disable_torque_on_disconnect", False):
                log.warning("emergency stop: leaving the motors' torque on so the arm holds its pose")
                self.robot.config.disable_torque_on_disconnect = False
            self.robot.disconnect()
