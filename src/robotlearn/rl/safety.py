"""Safety for an actor driving a real robot: action bounds, and an emergency-stop key.

    bounds = ActionBounds.from_config(SafetyConfig(action_min=[-90], action_max=[90]), env.action_space)
    action, clipped = bounds.clip(action)       # every executed action, the policy's or a human's
    stop = EmergencyStop("escape")              # read from the terminal; stop.pressed is an Event

Bounds, per action dimension (joint), are the tightest of: the task's action space, the
`--safety.action_min/max` flags (one value for every dimension, or one per dimension) and, with
`--safety.bounds_root`, the action min/max a recorded dataset holds (the range the human
demonstrated, per joint). The actor clips every action it sends to them and counts the steps it
had to clip (`clipped` in each episode's record).

The emergency stop is one key read from the terminal by `robotlearn.utils.terminal_keys` (stdin in
cbreak mode; nothing is read when stdin is not a terminal). Pressing it sets `pressed` from the
reader thread; the actor checks it before every action it sends, so no action goes out after
the press has been read, then it holds the robot (`env.hold()`: the joints' present positions
become their goals), marks the episode (`estop`), flushes its steps and its dataset, and exits.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robotlearn.errors import ConfigError

KEY_NAMES = {"space": " ", "enter": "\n", "tab": "\t"}


def key_name(flag: str, value: str) -> str:
    """A key as `--flag` gives it ("space", "escape", "up", "i", ...) -> TerminalKeys' name for it.
    Raises ConfigError for anything else."""
    if value in KEY_NAMES:
        return KEY_NAMES[value]
    if value in ("escape", "up", "down", "left", "right") or (len(value) == 1 and value.isprintable()):
        return value
    raise ConfigError(f"--{flag}={value!r}: not a key; use one character, space, enter, tab, escape or an arrow name")


@dataclass
class SafetyConfig:
    action_min: list[float] | None = None
    """Lowest action sent, action units: one value for every dimension or one per dimension (null: none)."""
    action_max: list[float] | None = None
    """Highest action sent, action units: one value for every dimension or one per dimension (null: none)."""
    bounds_root: str | None = None
    """LeRobotDataset whose per-joint action min/max also bound the actions (e.g. the demonstrations)."""
    estop_key: str | None = "escape"
    """Emergency-stop key: stop sending actions, hold the robot, save and exit (null: no key)."""

    def __post_init__(self):
        for name in ("action_min", "action_max"):
            value = getattr(self, name)
            if value is not None and len(value) == 0:
                raise ConfigError(f"--safety.{name}: give at least one value (or null)")
        if self.action_min is not None and self.action_max is not None:
            lo, hi = np.asarray(self.action_min, float), np.asarray(self.action_max, float)
            if lo.shape == hi.shape or 1 in (lo.size, hi.size):
                if np.any(lo > hi):
                    raise ConfigError(
                        f"--safety.action_min={list(self.action_min)} exceeds --safety.action_max={list(self.action_max)}"
                    )
        if self.estop_key is not None:
            key_name("safety.estop_key", self.estop_key)


def _broadcast(flag: str, value, n: int) -> np.ndarray:
    array = np.asarray(value, np.float64).reshape(-1)
    if array.size == 1:
        return np.full(n, array[0])
    if array.size != n:
        raise ConfigError(f"--safety.{flag} has {array.size} values; the action has {n} dimensions (give 1 or {n})")
    return array


def dataset_action_range(root: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """The per-dimension (min, max) of the `action` feature of the dataset at `root`, from its stats.
    Raises ConfigError when it has no action statistics."""
    from robotlearn.datasets.metadata import LeRobotDatasetMetadata

    meta = LeRobotDatasetMetadata("local/bounds", root=root, download=False)
    stats = (meta.stats or {}).get("action") or {}
    if "min" not in stats or "max" not in stats:
        raise ConfigError(f"--safety.bounds_root={root}: the dataset has no action min/max statistics")
    return np.asarray(stats["min"], np.float64).reshape(-1), np.asarray(stats["max"], np.float64).reshape(-1)


class ActionBounds:
    """Per-dimension [low, high]; `clip` applies them and `clipped` counts the steps it changed."""

    def __init__(self, low: np.ndarray, high: np.ndarray):
        self.low, self.high = np.asarray(low, np.float64), np.asarray(high, np.float64)
        self.clipped = 0

    @classmethod
    def from_config(cls, config: SafetyConfig, action_space) -> ActionBounds:
        """The tightest of the task's `action_space` (a gymnasium Box), the flags and the dataset's range."""
        n = int(np.prod(action_space.shape))
        low = np.asarray(action_space.low, np.float64).reshape(-1).copy()
        high = np.asarray(action_space.high, np.float64).reshape(-1).copy()
        if config.action_min is not None:
            low = np.maximum(low, _broadcast("action_min", config.action_min, n))
        if config.action_max is not None:
            high = np.minimum(high, _broadcast("action_max", config.action_max, n))
        if config.bounds_root is not None:
            d_low, d_high = dataset_action_range(config.bounds_root)
            if d_low.size != n:
                raise ConfigError(
                    f"--safety.bounds_root: the dataset's action has {d_low.size} dimensions, the task's {n}"
                )
            low, high = np.maximum(low, d_low), np.minimum(high, d_high)
        if np.any(low > high):
            raise ConfigError(
                f"the action bounds leave nothing: low {low.tolist()} > high {high.tolist()} "
                "(compare --safety.action_min/max and --safety.bounds_root with the task's action space)"
            )
        return cls(low, high)

    def clip(self, action: np.ndarray) -> tuple[np.ndarray, bool]:
        """(`action` clipped to the bounds as float32, whether any value was outside them)."""
        action = np.asarray(action, np.float32).reshape(-1)
        clipped = np.clip(action, self.low, self.high).astype(np.float32)
        outside = not np.array_equal(clipped, action)
        self.clipped += int(outside)
        return clipped, outside


class EmergencyStop:
    """Sets `pressed` when `key` is read from the terminal. `active` is False without a terminal (or key)."""

    def __init__(self, key: str | None):
        from robotlearn.utils.terminal_keys import TerminalKeys

        self.key = None if key is None else key_name("safety.estop_key", key)
        self.pressed = threading.Event()
        self._keys = TerminalKeys.get()
        self.active = self.key is not None and self._keys.subscribe(self._on_key)

    def _on_key(self, key: str) -> None:
        if key == self.key:
            self.pressed.set()

    def close(self) -> None:
        if self.active:
            self._keys.unsubscribe(self._on_key)
            self.active = False
