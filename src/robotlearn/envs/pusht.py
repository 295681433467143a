"""PushT: push a T-shaped block into a goal pose with a circular agent (a thin wrapper over gym-pusht).

The agent is driven by a PD controller toward a target position; an action is that target,
`(x, y)` in PushT coordinates (pixels of a 512x512 board, y pointing down in images). One `step`
is one control step at `fps = 10` (10 physics sub-steps of 10 ms). Success is gym-pusht's:
coverage of the goal by the block > 0.95.

Observations are dicts with the dataset keys used everywhere in robotlearn:

    obs[OBS_STATE_KEY]  float32 (2,)        agent x, y
    obs[OBS_IMAGE_KEY]  uint8 (S, S, 3)     top view, S = image_size (96 by default)

Exact reproduction. gym-pusht's own `reset_to_state` sets the block position before its angle,
which moves the block (its centre of gravity is not its origin), and it runs one physics step.
`PushTEnv.reset_to_state` instead rebuilds the physics space and sets the state exactly, with no
step, and `reset` rounds the random initial state to float32. So the state stored in a dataset
(`observation.environment_state`, float32) plus the recorded float32 actions replay the episode
bit for bit: see `robotlearn replay`.

Requires the `sim` extra (gymnasium, gym-pusht, pymunk, pygame). Rendering is headless.
"""

from __future__ import annotations

import os

import numpy as np

from robotlearn.envs.configs import PushTEnvConfig
from robotlearn.errors import ConfigError

FPS = 10
OBS_STATE_KEY = "observation.state"
OBS_IMAGE_KEY = "observation.images.top"
ACTION_KEY = "action"
# [agent_x, agent_y, block_x, block_y, block_angle (rad)]: the full simulator state (float32 in datasets).
ENV_STATE_KEY = "observation.environment_state"
ENV_STATE_NAMES = ["agent_x", "agent_y", "block_x", "block_y", "block_angle"]
# Goal pose of the block: x, y, angle (rad); fixed in gym-pusht.
GOAL_POSE = np.array([256.0, 256.0, np.pi / 4])
BOARD_SIZE = 512.0
REWARDS = ("dense", "success")


def _import_gym_pusht():
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # never open a window
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    try:
        import gym_pusht  # noqa: F401  (registers gym_pusht/PushT-v0)
        import gymnasium as gym
    except ImportError as e:
        raise ImportError(f"The PushT simulator needs the 'sim' extra: pip install 'robotlearn[sim]' ({e})") from e
    return gym


class PushTEnv:
    """PushT at 10 fps with robotlearn's observation keys. See the module docstring.

    Args:
        image_size: side of the square observation image in pixels.
        max_steps: `step` returns truncated=True once this many steps were taken (None: never).
        seed: seed of the first `reset` (later resets continue the same random stream).
        render_size: side of the frames returned by `render()` (for videos).
        reward: "dense" (gym-pusht's coverage reward) or "success" (1 on success, else 0).
    """

    fps = FPS
    config_class = PushTEnvConfig

    @classmethod
    def from_config(cls, config: PushTEnvConfig, max_steps: int | None = 300) -> PushTEnv:
        """The env `config` describes (see `robotlearn.envs.make_env`)."""
        return cls(
            image_size=config.image_size, max_steps=max_steps, render_size=config.render_size, reward=config.reward
        )

    def __init__(
        self,
        image_size: int = 96,
        max_steps: int | None = 300,
        seed: int | None = None,
        render_size: int = 384,
        reward: str = "dense",
    ):
        if reward not in REWARDS:
            raise ConfigError(f"--env.reward={reward!r}: choose one of {', '.join(REWARDS)}")
        self.reward_kind = reward
        gym = _import_gym_pusht()
        env = gym.make(
            "gym_pusht/PushT-v0",
            obs_type="pixels_agent_pos",
            render_mode="rgb_array",
            observation_width=image_size,
            observation_height=image_size,
            visualization_width=render_size,
            visualization_height=render_size,
            disable_env_checker=True,
        )
        # The raw env: we count steps ourselves (no TimeLimit) and need the physics bodies.
        self._env = env.unwrapped
        self.image_size = image_size
        self.max_steps = max_steps
        self._seed = seed
        self._steps = 0
        self._ready = False

    # -- gymnasium-style API -------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> tuple[dict, dict]:
        """Random initial state (gym-pusht's distribution, rounded to float32). Returns (obs, info)."""
        if seed is None and not self._ready:
            seed = self._seed
        self._env.reset(seed=seed)
        return self.reset_to_state(self.get_state())

    def reset_to_state(self, state) -> tuple[dict, dict]:
        """Start an episode from `state` = [agent_x, agent_y, block_x, block_y, block_angle], exactly.

        The state is rounded to float32 first, so a state read back from a float32 dataset column
        reproduces the episode. Returns (obs, info) like `reset`.
        """
        state = np.asarray(state, dtype=np.float32).astype(np.float64)
        if state.shape != (5,):
            raise ValueError(f"PushT state must have shape (5,) [{', '.join(ENV_STATE_NAMES)}], got {state.shape}")
        env = self._env
        env._setup()  # fresh physics space: no cached contacts from the previous episode
        env._last_action = None
        env.agent.position = state[:2].tolist()
        env.block.angle = float(state[4])  # angle first: setting it rotates about the centre of gravity
        env.block.position = state[2:4].tolist()
        # pymunk draws shapes from cached world coordinates, refreshed only by a physics step: refresh
        # them here, or the first observation image would show the previous episode's (or the default) scene.
        for body in (env.agent, env.block):
            for shape in body.shapes:
                shape.cache_bb()
        self._steps = 0
        self._ready = True
        info = self._info()
        info["is_success"] = False
        return self._obs(), info

    def step(self, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        """Move the agent's target to `action` (x, y) for one control step (0.1 s).

        Returns (obs, reward, terminated, truncated, info); reward = min(coverage / 0.95, 1) (or, with
        reward="success", 1.0 on success and 0.0 otherwise), terminated = info["is_success"] = coverage > 0.95.
        """
        if not self._ready:
            raise RuntimeError("PushTEnv.step called before reset()")
        action = np.asarray(action, dtype=np.float32).reshape(2).astype(np.float64)
        gym_obs, reward, terminated, _, gym_info = self._env.step(action)
        self._steps += 1
        truncated = self.max_steps is not None and self._steps >= self.max_steps
        info = self._info()
        info["coverage"] = float(gym_info["coverage"])
        info["is_success"] = bool(gym_info["is_success"])
        if self.reward_kind == "success":
            reward = float(info["is_success"])
        # gym-pusht's step already rendered this observation's frame: reuse it (rendering is a third of a step)
        return self._obs(gym_obs["pixels"]), float(reward), bool(terminated), bool(truncated), info

    @property
    def action_space(self):
        """gymnasium Box of target positions (x, y) in [0, 512]."""
        return self._env.action_space

    def dataset_meta(self):
        """Dataset-style `features` and `stats` for building a policy without a dataset (RL): the
        agent position, the full state (`observation.environment_state`) and the camera, with
        statistics of PushT's 512 x 512 workspace; actions are targets in [0, 512]."""
        from types import SimpleNamespace

        features = {**pusht_dataset_features(self.image_size), **pusht_env_state_feature()}
        uniform = 512 / np.sqrt(12)  # std of a uniform position on [0, 512]
        stats = {
            OBS_STATE_KEY: {"mean": np.full(2, 256.0), "std": np.full(2, uniform)},
            ENV_STATE_KEY: {"mean": np.array([256.0] * 4 + [0.0]), "std": np.array([uniform] * 4 + [np.pi])},
            OBS_IMAGE_KEY: {"mean": np.full((3, 1, 1), 0.5), "std": np.full((3, 1, 1), 0.25)},
            ACTION_KEY: {
                "min": np.zeros(2),
                "max": np.full(2, 512.0),
                "mean": np.full(2, 256.0),
                "std": np.full(2, uniform),
            },
        }
        return SimpleNamespace(features=features, stats=stats, fps=FPS)

    def render(self) -> np.ndarray:
        """A (render_size, render_size, 3) uint8 frame with the last target marked (for videos)."""
        return self._env.render()

    def close(self) -> None:
        self._env.close()

    # -- state access (used by the scripted expert, the sim robot and replay) --------------------
    def get_state(self) -> np.ndarray:
        """[agent_x, agent_y, block_x, block_y, block_angle], float64 (angle in radians, unwrapped)."""
        env = self._env
        return np.array([*env.agent.position, *env.block.position, env.block.angle], dtype=np.float64)

    def agent_velocity(self) -> np.ndarray:
        """Agent velocity (px/s), float64 (2,)."""
        return np.array(self._env.agent.velocity, dtype=np.float64)

    @property
    def steps(self) -> int:
        """Control steps since the last reset."""
        return self._steps

    def coverage(self) -> float:
        """Fraction of the goal area covered by the block, in [0, 1]."""
        return float(self._env._get_coverage())

    def _obs(self, pixels: np.ndarray | None = None) -> dict:
        if pixels is None:
            pixels = self._env._render(visualize=False)
        return {
            OBS_STATE_KEY: np.asarray(self._env.agent.position, dtype=np.float32),
            OBS_IMAGE_KEY: np.ascontiguousarray(pixels, dtype=np.uint8),
        }

    def _info(self) -> dict:
        return {"env_state": self.get_state(), "goal_pose": GOAL_POSE.copy()}


def pusht_dataset_features(image_size: int = 96, use_video: bool = True) -> dict:
    """Dataset features (for `LeRobotDataset.create`) matching PushTEnv's observations and actions.

    Identical to what `hw_to_dataset_features` builds from the `sim_pusht` robot.
    """
    return {
        OBS_STATE_KEY: {"dtype": "float32", "shape": (2,), "names": ["agent_x", "agent_y"]},
        OBS_IMAGE_KEY: {
            "dtype": "video" if use_video else "image",
            "shape": (image_size, image_size, 3),
            "names": ["height", "width", "channels"],
        },
        ACTION_KEY: {"dtype": "float32", "shape": (2,), "names": ["target_x", "target_y"]},
    }


def pusht_env_state_feature() -> dict:
    """The optional `observation.environment_state` feature (full sim state, enables exact replay)."""
    return {ENV_STATE_KEY: {"dtype": "float32", "shape": (5,), "names": list(ENV_STATE_NAMES)}}
