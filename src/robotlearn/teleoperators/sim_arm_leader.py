"""Teleoperator `sim_arm_leader`: a scripted leader arm for `sim_arm`, moving its joints along
smooth periodic trajectories (a stand-in for a person moving a real leader arm).

Joint i follows `amplitude_deg * sin(2 pi t / period_s[i] + phase_i)` with t = steps / fps, so
the motion is deterministic given the seed (phases) and independent of wall-clock time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from robotlearn.errors import DeviceAlreadyConnectedError, DeviceNotConnectedError
from robotlearn.teleoperators.teleoperator import Teleoperator, TeleoperatorConfig


@dataclass
class SimArmLeaderConfig(TeleoperatorConfig):
    """Options of the scripted leader (joints must match the follower's)."""

    type: str = "sim_arm_leader"
    """Registered teleoperator type."""
    joints: tuple[str, ...] = ("shoulder", "elbow", "wrist")
    """Joint names; each gives the action <joint>.pos (degrees)."""
    fps: int = 30
    """Steps per second of trajectory time, Hz."""
    amplitude_deg: float = 60.0
    """Amplitude of each joint's sine, degrees."""
    periods_s: tuple[float, ...] = (4.0, 3.0, 2.0)
    """Period of each joint's sine, seconds (cycled if shorter than joints)."""
    seed: int | None = 0
    """Seed of the random phases; None = all zero."""


class SimArmLeader(Teleoperator):
    """See the module docstring."""

    config_class = SimArmLeaderConfig
    name = "sim_arm_leader"

    def __init__(self, config: SimArmLeaderConfig | None = None):
        super().__init__(config or SimArmLeaderConfig())
        n = len(self.config.joints)
        rng = np.random.default_rng(self.config.seed)
        self.phases = np.zeros(n) if self.config.seed is None else rng.uniform(0, 2 * math.pi, n)
        self.step = 0
        self._connected = False

    @property
    def action_features(self) -> dict[str, Any]:
        return {f"{j}.pos": float for j in self.config.joints}

    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self, calibrate: bool = True) -> None:
        if self._connected:
            raise DeviceAlreadyConnectedError("SimArmLeader is already connected")
        self._connected = True

    def reset(self) -> None:
        """Restart the trajectory from its first step."""
        self.step = 0

    def position(self, step: int) -> np.ndarray:
        """Joint goals (degrees) at trajectory step `step`."""
        periods = [self.config.periods_s[i % len(self.config.periods_s)] for i in range(len(self.config.joints))]
        t = step / self.config.fps
        return self.config.amplitude_deg * np.sin(2 * math.pi * t / np.array(periods) + self.phases)

    def get_action(self) -> dict[str, Any]:
        if not self._connected:
            raise DeviceNotConnectedError("SimArmLeader is not connected: call connect() first")
        q = self.position(self.step)
        self.step += 1
        return {f"{j}.pos": float(v) for j, v in zip(self.config.joints, q)}

    def disconnect(self) -> None:
        if not self._connected:
            raise DeviceNotConnectedError("SimArmLeader is not connected")
        self._connected = False
