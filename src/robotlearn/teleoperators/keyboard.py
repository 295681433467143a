"""Teleoperator `keyboard`: arrow keys move a 2-D target (e.g. the PushT agent's target).

Each arrow press moves the target by `step` in that direction (up = -y, as on screen and in PushT
images); the target is clipped to [low, high]. Keys are read from the terminal (stdin in cbreak
mode, no display or extra package needed; see utils/terminal_keys.py). With stdin not a terminal
the target never moves.

When given the robot it drives (`make_teleoperator` passes it), the target starts at the robot's
current position (observation features named like the action's `x_name`/`y_name` with `agent_`
instead of `target_`, e.g. agent_x/agent_y), so the agent does not jump at the start.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from robotlearn.errors import DeviceAlreadyConnectedError, DeviceNotConnectedError
from robotlearn.teleoperators.teleoperator import Teleoperator, TeleoperatorConfig
from robotlearn.utils.terminal_keys import TerminalKeys

DIRECTIONS = {"up": (0.0, -1.0), "down": (0.0, 1.0), "left": (-1.0, 0.0), "right": (1.0, 0.0)}


@dataclass
class KeyboardTeleopConfig(TeleoperatorConfig):
    """Arrow-key teleoperation of a 2-D target."""

    type: str = "keyboard"
    """Registered teleoperator type."""
    step: float = 10.0
    """Target displacement per key press, action units (PushT pixels)."""
    x_name: str = "target_x"
    """Action feature moved by left/right."""
    y_name: str = "target_y"
    """Action feature moved by up/down."""
    start_x: float = 256.0
    """Initial x target when no robot position is known, action units."""
    start_y: float = 256.0
    """Initial y target when no robot position is known, action units."""
    low: float = 0.0
    """Lowest target value, action units."""
    high: float = 512.0
    """Highest target value, action units."""


class KeyboardTeleop(Teleoperator):
    """See the module docstring. `press(key)` applies a key name directly (used by the reader thread)."""

    config_class = KeyboardTeleopConfig
    name = "keyboard"
    needs_robot = True  # optional: only used for the starting position

    def __init__(self, config: KeyboardTeleopConfig | None = None, robot=None):
        super().__init__(config or KeyboardTeleopConfig())
        self.robot = robot
        self.target = np.array([self.config.start_x, self.config.start_y], dtype=np.float64)
        self._lock = threading.Lock()
        self._connected = False
        self.reading_terminal = False

    @property
    def action_features(self) -> dict[str, Any]:
        return {self.config.x_name: float, self.config.y_name: float}

    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self, calibrate: bool = True) -> None:
        if self._connected:
            raise DeviceAlreadyConnectedError("KeyboardTeleop is already connected")
        self._connected = True
        self.reset()
        self.reading_terminal = TerminalKeys.get().subscribe(self.press)

    def reset(self) -> None:
        """Start the target at the robot's current position when it is known."""
        if self.robot is None or not getattr(self.robot, "is_connected", False):
            return
        obs = self.robot.get_observation()
        names = [n.replace("target_", "agent_") for n in (self.config.x_name, self.config.y_name)]
        if all(n in obs for n in names):
            with self._lock:
                self.target = np.array([obs[names[0]], obs[names[1]]], dtype=np.float64)

    def press(self, key: str) -> None:
        if key in DIRECTIONS:
            with self._lock:
                self.target = np.clip(
                    self.target + np.array(DIRECTIONS[key]) * self.config.step, self.config.low, self.config.high
                )

    def get_action(self) -> dict[str, Any]:
        if not self._connected:
            raise DeviceNotConnectedError("KeyboardTeleop is not connected: call connect() first")
        with self._lock:
            x, y = self.target
        return {self.config.x_name: float(x), self.config.y_name: float(y)}

    def disconnect(self) -> None:
        if not self._connected:
            raise DeviceNotConnectedError("KeyboardTeleop is not connected")
        if self.reading_terminal:
            TerminalKeys.get().unsubscribe(self.press)
        self._connected = False
