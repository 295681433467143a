"""`SimRobot`: a simulated robot, i.e. the `Robot` interface plus the hooks only a simulator has.

Recording and replay check `isinstance(robot, SimRobot)` and then use:

- `reset_episode()`: draw a new initial state before each recorded episode (a person resets a
  real scene; a simulator does it itself);
- `extra_dataset_features` / `get_extra_observation()`: data beyond the observation features,
  e.g. `observation.environment_state`, the full simulator state;
- `reset_to_state(state)`: start from a recorded `observation.environment_state` exactly
  (simulators whose `extra_dataset_features` include that key implement it; `robotlearn replay`
  then reproduces an episode exactly);
- `episode_task()`: the instruction of the current episode, for simulators that draw a task per
  episode (sim_lang_pusht, sim_metaworld): recorded as each frame's task;
- `last_info`: what the simulator knows about the last step (`is_success`, `reward`, ...), read
  by `record_loop(end_on_success=True)` and `robotlearn record`'s summary.
"""

from __future__ import annotations

from typing import Any

from robotlearn.envs.pusht import ENV_STATE_KEY
from robotlearn.errors import DeviceAlreadyConnectedError, DeviceNotConnectedError
from robotlearn.robots.robot import Robot, RobotConfig


class SimRobot(Robot):
    """Base class of simulated robots; see the module docstring."""

    names_episode_tasks = False  # True: episode_task() names each episode's instruction (no --dataset.single_task)

    def __init__(self, config: RobotConfig):
        super().__init__(config)
        self.last_info: dict[str, Any] = {}  # what the last step reported (is_success, reward, ...)

    def reset_episode(self) -> None:
        """Start a new episode from a new initial state. `record_loop` calls it before recording
        each episode. Default: nothing (the episode continues from the current state)."""

    def episode_task(self) -> str | None:
        """The current episode's instruction, for a multi-task simulator (a new one after each
        `reset_episode`); `record_loop` stores it as each frame's task in place of `single_task`.
        Default None: the session's one task."""
        return None

    @property
    def extra_dataset_features(self) -> dict[str, dict]:
        """Extra dataset features (full specs, keyed by dataset key, e.g. `observation.environment_state`)
        this robot can provide beyond `observation_features`. Recorded only if the dataset declares them."""
        return {}

    def get_extra_observation(self) -> dict[str, Any]:
        """Values of `extra_dataset_features` for the current step (dataset key -> array)."""
        return {}

    @property
    def can_reset_to_state(self) -> bool:
        """True if `reset_to_state` accepts a recorded `observation.environment_state`."""
        return ENV_STATE_KEY in self.extra_dataset_features

    def reset_to_state(self, state: Any) -> None:
        """Start an episode from `state` (a recorded `observation.environment_state`) exactly.
        Implemented by simulators that provide that feature; raises NotImplementedError otherwise."""
        raise NotImplementedError(f"{type(self).__name__} cannot be reset to a recorded state")


class MultiTaskSimRobot(SimRobot):
    """A simulated robot over a multi-task env (`sim_lang_pusht`, `sim_metaworld`): `connect()` builds the
    env (`make_env()`, the subclass's), `reset_episode()` starts the next episode, on task i mod K when
    the config's `cycle_tasks` is set, and `episode_task()` is the env's instruction for it. The config
    has `seed` (the first episode's; later ones continue its stream) and `cycle_tasks`; the env has
    `tasks`, `instruction`, `reset(seed, options={"task": ...})` and `close()`."""

    names_episode_tasks = True

    def __init__(self, config: RobotConfig):
        super().__init__(config)
        self.env = None
        self.episode_count = 0  # episodes started (a scripted teleoperator notices resets by it)
        self._obs: dict | None = None  # the env's observation after the last reset or step
        self._fresh = False  # True until the first action after a reset
        self._seeded = False

    def make_env(self):
        """The env this robot drives (built by `connect()`)."""
        raise NotImplementedError

    @property
    def is_connected(self) -> bool:
        return self.env is not None

    def connect(self, calibrate: bool = True) -> None:
        if self.env is not None:
            raise DeviceAlreadyConnectedError(f"{type(self).__name__} is already connected")
        self.env = self.make_env()
        self.episode_count = 0
        self._seeded = False
        self._new_episode()

    def _require(self):
        if self.env is None:
            raise DeviceNotConnectedError(f"{type(self).__name__} is not connected: call robot.connect() first")
        return self.env

    def _new_episode(self) -> None:
        env = self.env
        seed = None if self._seeded else self.config.seed
        self._seeded = True
        options = {"task": env.tasks[self.episode_count % len(env.tasks)]} if self.config.cycle_tasks else None
        self._obs, _ = env.reset(seed=seed, options=options)
        self._fresh = True
        self.last_info = {"reward": 0.0, "is_success": False}
        self.episode_count += 1

    def reset_episode(self) -> None:
        """The next episode (the next task with `cycle_tasks`). No-op if no action was sent since the
        last reset (so the first episode after `connect()` is the seed's first, with the first task)."""
        self._require()
        if not self._fresh:
            self._new_episode()

    def episode_task(self) -> str:
        """The current episode's instruction (e.g. "push the red block to the top left corner")."""
        return self._require().instruction

    def _stepped(self, obs, reward, info) -> None:
        """Record what one env step returned (subclasses' `send_action` call it)."""
        self._obs = obs
        self._fresh = False
        self.last_info = {"reward": reward, "is_success": info["is_success"]}

    def disconnect(self) -> None:
        self._require().close()
        self.env = None
