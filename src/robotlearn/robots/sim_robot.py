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
