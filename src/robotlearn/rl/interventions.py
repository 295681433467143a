"""Human interventions for the RL actor: the keyboard, any teleoperator (a leader arm), and the
scripted PushT expert standing in for a human.

An intervention source is a callable `intervene(env, observation, policy_action) -> action | None`:
an action replaces the policy's for this step (the step is recorded as an intervention, with the
executed action), None lets the policy act. A source may also have `open(env, low, high)` (called
once the actor has its task, with the per-dimension bounds actions are clipped to) and `close()`.

Human sources are engaged by a key read from the terminal (`--intervention.takeover_key`, space by
default; a USB foot pedal that types a key works the same): each press toggles takeover.

- `keyboard`: while engaged, the arrow keys move action dimensions 0 (left/right) and 1 (up/down,
  up = -1 as on screen and in PushT's image coordinates), w/s move dimension 2 and a/d dimension 3,
  each press by `step` of the dimension's range. `mode=absolute` holds the moved action (position
  targets: it starts at the policy's action at takeover); `mode=delta` applies each press to one
  step only and sends the task's neutral action (0, within the bounds) otherwise (velocity or
  end-effector-delta actions, as gym-hil's).
- `teleop`: any registered teleoperator (`--intervention.teleop.type=so100_leader
  --intervention.teleop.port=...`, `sim_arm_leader`, `keyboard`): read every step; while engaged its
  action, in the task's action order (`env.action_names` when the task has names, else the
  teleoperator's), replaces the policy's.

`ScriptedPushTIntervention` behaves like the human of HIL-SERL's protocol: it watches the policy
and takes over when the episode stalls (coverage of the goal has not improved for `patience`
steps), drives for `takeover_steps` steps with the scripted expert, then hands back. It never
intervenes on more than `budget` of the actor's steps so far, and its budget falls linearly to 0
over `decay_steps` actor steps, so interventions are frequent early and rare late.
"""

from __future__ import annotations

import collections
import threading
from dataclasses import dataclass

import numpy as np

from robotlearn.errors import ConfigError
from robotlearn.rl.safety import key_name
from robotlearn.teleoperators import TeleoperatorConfig

# keyboard intervention: key -> (action dimension, direction)
KEY_AXES = {
    "left": (0, -1.0),
    "right": (0, 1.0),
    "up": (1, -1.0),
    "down": (1, 1.0),
    "w": (2, 1.0),
    "s": (2, -1.0),
    "d": (3, 1.0),
    "a": (3, -1.0),
}


@dataclass
class InterventionConfig:
    type: str | None = None
    """Intervention source: keyboard, teleop (a leader arm...), scripted_pusht (the expert as the human), or None."""
    budget: float = 0.15
    """Largest share of actor steps an intervention may drive (falls to 0 over decay_steps)."""
    decay_steps: int = 20_000
    """Actor steps over which the budget falls linearly to 0."""
    patience: int = 20
    """Steps without coverage progress before taking over."""
    takeover_steps: int = 15
    """Steps driven per intervention."""
    takeover_key: str = "space"
    """keyboard, teleop: key (or pedal) toggling human takeover: one character, space, enter or tab."""
    step: float = 0.05
    """keyboard: action change per key press, as a fraction of the dimension's range (within the safety bounds)."""
    mode: str = "absolute"
    """keyboard: absolute (moved action held: position targets) or delta (each press moves one step)."""
    teleop: TeleoperatorConfig | None = None
    """teleop: the device, e.g. --intervention.teleop.type=so100_leader --intervention.teleop.port=/dev/ttyACM1."""

    def __post_init__(self):
        if self.mode not in ("absolute", "delta"):
            raise ConfigError(f"--intervention.mode={self.mode!r}: choose absolute or delta")
        if not self.step > 0:
            raise ConfigError(f"--intervention.step={self.step}: must be > 0 (a fraction of the action range)")
        if key_name("intervention.takeover_key", self.takeover_key) in KEY_AXES:
            raise ConfigError(
                f"--intervention.takeover_key={self.takeover_key}: that key moves the action; choose another"
            )


class TakeoverKey:
    """Key presses from the terminal, in order: the takeover key toggles `engaged`, the others wait in
    `events` for the control loop (the reader thread only queues them)."""

    def __init__(self, key: str):
        from robotlearn.utils.terminal_keys import TerminalKeys

        self.key = key_name("intervention.takeover_key", key)
        self._events: collections.deque = collections.deque()
        self._lock = threading.Lock()
        self._keys = TerminalKeys.get()
        self.reading = self._keys.subscribe(self._events.append)
        self.engaged = False

    def drain(self) -> list[tuple[str, bool]]:
        """(key, engaged after it) for each key read since the last call; toggles `engaged`."""
        out = []
        with self._lock:
            while self._events:
                key = self._events.popleft()
                if key == self.key:
                    self.engaged = not self.engaged
                out.append((key, self.engaged))
        return out

    def close(self) -> None:
        if self.reading:
            self._keys.unsubscribe(self._events.append)
            self.reading = False


def _space_bounds(env) -> tuple[np.ndarray, np.ndarray]:
    space = env.action_space
    return np.asarray(space.low, np.float64).reshape(-1), np.asarray(space.high, np.float64).reshape(-1)


class KeyboardIntervention:
    """`--intervention.type=keyboard`: see the module docstring."""

    def __init__(self, config: InterventionConfig):
        self.config = config
        self.keys = TakeoverKey(config.takeover_key)
        self.low = self.high = None
        self.held: np.ndarray | None = None

    def open(self, env, low: np.ndarray, high: np.ndarray) -> None:
        """The per-dimension bounds the keys move the action within (the actor's safety bounds)."""
        self.low, self.high = np.asarray(low, np.float64), np.asarray(high, np.float64)

    def __call__(self, env, observation, policy_action):
        if self.low is None:
            self.open(env, *_space_bounds(env))
        low, high = self.low, self.high
        span = np.where(np.isfinite(high - low), high - low, 2.0)  # an unbounded dimension moves by step * 2
        neutral = np.clip(np.zeros_like(low), low, high)
        was_engaged = self.keys.engaged
        action = self.held if self.config.mode == "absolute" and was_engaged else neutral.copy()
        for key, engaged in self.keys.drain():
            if key == self.keys.key:
                if engaged:  # takeover starts from the policy's action (absolute) or the neutral one
                    start = np.asarray(policy_action, np.float64).reshape(-1)
                    action = np.clip(start, low, high) if self.config.mode == "absolute" else neutral.copy()
                continue
            if engaged and key in KEY_AXES:
                dim, sign = KEY_AXES[key]
                if dim < len(action):
                    action = action.copy()
                    action[dim] = np.clip(action[dim] + sign * self.config.step * span[dim], low[dim], high[dim])
        if not self.keys.engaged:
            self.held = None
            return None
        self.held = action
        return action.astype(np.float32)

    def close(self) -> None:
        self.keys.close()


class TeleopIntervention:
    """`--intervention.type=teleop`: a registered teleoperator, engaged by the takeover key."""

    def __init__(self, config: InterventionConfig):
        if config.teleop is None:
            raise ConfigError(
                "--intervention.type=teleop needs --intervention.teleop.type=NAME "
                "(e.g. so100_leader with --intervention.teleop.port=..., sim_arm_leader, keyboard)"
            )
        self.config = config
        self.keys = TakeoverKey(config.takeover_key)
        self.teleop = None
        self.names: list[str] = []

    def open(self, env, low: np.ndarray, high: np.ndarray) -> None:
        """Builds and connects the teleoperator (given the task's robot when it has one)."""
        from robotlearn.teleoperators import make_teleoperator_from_config

        self.low, self.high = np.asarray(low, np.float64), np.asarray(high, np.float64)
        self.teleop = make_teleoperator_from_config(self.config.teleop, robot=getattr(env, "robot", None))
        names = list(getattr(env, "action_names", None) or self.teleop.action_features)
        missing = [n for n in names if n not in self.teleop.action_features]
        if missing or len(names) != len(self.low):
            raise ConfigError(
                f"--intervention.teleop.type={self.config.teleop.type} gives {sorted(self.teleop.action_features)}; "
                f"the task's {len(self.low)} actions are {names}" + (f" (missing {missing})" if missing else "")
            )
        self.names = names
        self.teleop.connect()

    def __call__(self, env, observation, policy_action):
        if self.teleop is None:
            self.open(env, *_space_bounds(env))
        reading = self.teleop.get_action()  # every step: a leader arm is followed while it is engaged
        self.keys.drain()
        if not self.keys.engaged:
            return None
        action = np.array([reading[n] for n in self.names], np.float64)
        return np.clip(action, self.low, self.high).astype(np.float32)

    def close(self) -> None:
        self.keys.close()
        if self.teleop is not None and self.teleop.is_connected:
            self.teleop.disconnect()


class ScriptedPushTIntervention:
    def __init__(self, config: InterventionConfig):
        from robotlearn.envs.pusht_expert import PushTExpert

        self.config = config
        self.expert = PushTExpert()
        self.steps = 0  # actor steps seen
        self.driven = 0  # steps the expert drove
        self._left = 0  # steps left in the current takeover
        self._best = 0.0
        self._since_progress = 0
        self._episode_steps = 0

    def budget_now(self) -> float:
        c = self.config
        return c.budget * max(0.0, 1.0 - self.steps / max(1, c.decay_steps))

    def new_episode(self) -> None:
        self._left, self._best, self._since_progress, self._episode_steps = 0, 0.0, 0, 0

    def __call__(self, env, observation, policy_action):
        if env.steps == 0 and self._episode_steps:  # the actor reset the env
            self.new_episode()
        self.steps += 1
        self._episode_steps += 1
        coverage = env.coverage()
        if coverage > self._best + 0.01:
            self._best, self._since_progress = coverage, 0
        else:
            self._since_progress += 1
        if self._left == 0 and self._since_progress >= self.config.patience:
            if self.driven + self.config.takeover_steps <= self.budget_now() * self.steps:
                self._left = self.config.takeover_steps
                self._since_progress = 0
                self.expert.reset()  # re-plan from where the policy left the scene
        if self._left == 0:
            return None
        self._left -= 1
        self.driven += 1
        return self.expert.act_env(env)


INTERVENTIONS = {
    "keyboard": KeyboardIntervention,
    "teleop": TeleopIntervention,
    "scripted_pusht": ScriptedPushTIntervention,
}


def make_intervention(config: InterventionConfig):
    """The intervention source `config.type` names (None: no interventions). Raises ConfigError."""
    if config.type is None:
        return None
    if config.type not in INTERVENTIONS:
        raise ConfigError(f"--intervention.type={config.type!r}: unknown; choose one of {sorted(INTERVENTIONS)}")
    return INTERVENTIONS[config.type](config)
