"""Robot `sim_pusht`: the PushT simulator behind the `Robot` interface, so the recording tools work
without hardware.

Each `send_action` advances the simulation by one control step (0.1 s of simulated time), whatever
the rate of the loop calling it: the loop's fixed rate is the wall clock, the simulator just follows.
`get_observation` returns the state after the last step (no extra simulation).

    observation_features = {"agent_x": float, "agent_y": float, "top": (96, 96, 3)}
    action_features      = {"target_x": float, "target_y": float}     # PushT pixels, [0, 512]

so `hw_to_dataset_features` yields `observation.state` [agent_x, agent_y], `observation.images.top`
and `action` [target_x, target_y], the same as `robotlearn.envs.pusht.pusht_dataset_features()`.

The robot also offers `observation.environment_state` (see `extra_dataset_features`): the full sim
state, from which `robotlearn replay` reproduces a recorded episode exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from robotlearn.errors import DeviceAlreadyConnectedError, DeviceNotConnectedError
from robotlearn.robots.robot import RobotConfig
from robotlearn.robots.sim_robot import SimRobot


def agent_and_camera(obs: dict, camera: str) -> dict[str, Any]:
    """A PushT-style env observation as the robot's: agent_x, agent_y and the camera image (the same keys in
    PushT and language PushT)."""
    from robotlearn.envs.pusht import OBS_IMAGE_KEY, OBS_STATE_KEY

    x, y = obs[OBS_STATE_KEY]
    return {"agent_x": float(x), "agent_y": float(y), camera: obs[OBS_IMAGE_KEY]}


def board_target(action: dict[str, Any], robot: str) -> np.ndarray:
    """The (x, y) target of a `{"target_x", "target_y"}` action, clipped to the 512 px board, as float32 so the
    action stored in a dataset is exactly the action applied (exact replay). KeyError naming `robot`."""
    try:
        target = np.array([action["target_x"], action["target_y"]], dtype=np.float64)
    except KeyError as e:
        raise KeyError(f"{robot}.send_action: missing action {e}; expected keys target_x, target_y") from None
    return np.clip(target, 0.0, 512.0).astype(np.float32)


@dataclass
class PushTRobotConfig(RobotConfig):
    """Options of the simulated PushT robot."""

    type: str = "sim_pusht"
    """Registered robot type."""
    image_size: int = 96
    """Side of the square camera image, pixels."""
    seed: int | None = None
    """Seed of the first episode's initial state (None: random); later episodes continue its stream."""
    camera: str = "top"
    """Camera name: the dataset key is observation.images.<camera>."""


class PushTRobot(SimRobot):
    """PushT as a robot: `connect()` builds the env, `reset_episode()` draws a new initial state.
    `last_info` holds the reward, is_success and coverage of the last step."""

    config_class = PushTRobotConfig
    name = "sim_pusht"

    def __init__(self, config: PushTRobotConfig | None = None):
        super().__init__(config or PushTRobotConfig())
        self.env = None
        self.episode_count = 0  # number of episodes started (teleoperators use it to notice resets)
        self._obs: dict | None = None
        self._fresh = False  # True until the first action after a reset

    @property
    def observation_features(self) -> dict[str, Any]:
        s = self.config.image_size
        return {"agent_x": float, "agent_y": float, self.config.camera: (s, s, 3)}

    @property
    def action_features(self) -> dict[str, Any]:
        return {"target_x": float, "target_y": float}

    @property
    def extra_dataset_features(self) -> dict[str, dict]:
        from robotlearn.envs.pusht import pusht_env_state_feature

        return pusht_env_state_feature()

    @property
    def is_connected(self) -> bool:
        return self.env is not None

    def connect(self, calibrate: bool = True) -> None:
        if self.env is not None:
            raise DeviceAlreadyConnectedError("PushTRobot is already connected")
        from robotlearn.envs.pusht import PushTEnv

        self.env = PushTEnv(image_size=self.config.image_size, max_steps=None, seed=self.config.seed)
        self._set_obs(*self.env.reset())

    def _require(self):
        if self.env is None:
            raise DeviceNotConnectedError("PushTRobot is not connected: call robot.connect() first")
        return self.env

    def reset_episode(self) -> None:
        """New random initial state (the seed stream continues from `config.seed`).

        No-op if no action was sent since the last reset (so the first episode after `connect()`
        starts from the seed's first state)."""
        env = self._require()
        if self._fresh:
            return
        self._set_obs(*env.reset())

    def reset_to_state(self, state) -> None:
        """Start an episode from [agent_x, agent_y, block_x, block_y, block_angle] exactly (used by replay)."""
        self._set_obs(*self._require().reset_to_state(state))

    def _set_obs(self, obs, info) -> None:
        self._obs = obs
        self._fresh = True
        self.last_info = {"reward": 0.0, "is_success": False, "coverage": self.env.coverage()}
        self.episode_count += 1

    def get_observation(self) -> dict[str, Any]:
        self._require()
        return agent_and_camera(self._obs, self.config.camera)

    def get_extra_observation(self) -> dict[str, Any]:
        from robotlearn.envs.pusht import ENV_STATE_KEY

        return {ENV_STATE_KEY: self._require().get_state().astype(np.float32)}

    def send_action(self, action: dict[str, Any]) -> dict[str, Any]:
        """Step the sim once toward target (x, y), clipped to the board; returns the float32 target sent."""
        env = self._require()
        target = board_target(action, "PushTRobot")
        obs, reward, _, _, info = env.step(target)
        self._obs = obs
        self._fresh = False
        self.last_info = {"reward": reward, "is_success": info["is_success"], "coverage": info["coverage"]}
        return {"target_x": float(target[0]), "target_y": float(target[1])}

    def disconnect(self) -> None:
        self._require().close()
        self.env = None
