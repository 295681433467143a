"""Robot `sim_arm`: a simulated planar arm with revolute joints, for recording joint-space data
without hardware (same feature layout as a real arm: `<joint>.pos` in degrees, plus cameras).

Each `send_action` moves every joint toward its commanded position by at most
`max_speed_deg_s / fps` degrees (a position-controlled servo at the control rate), within
[-limit_deg, limit_deg]. `get_observation` returns the joint positions and, if `image_size > 0`,
a top view of the arm rendered with Pillow (`top`), plus any configured cameras (e.g. `sim`).

    observation_features = {"shoulder.pos": float, "elbow.pos": float, "wrist.pos": float, "top": (96, 96, 3)}
    action_features      = {"shoulder.pos": float, "elbow.pos": float, "wrist.pos": float}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from robotlearn.cameras.camera import CameraConfig
from robotlearn.errors import ConfigError, DeviceAlreadyConnectedError, DeviceNotConnectedError
from robotlearn.robots.robot import RobotConfig
from robotlearn.robots.sim_robot import SimRobot


@dataclass
class SimArmConfig(RobotConfig):
    """Options of the simulated planar arm."""

    type: str = "sim_arm"
    """Registered robot type."""
    joints: tuple[str, ...] = ("shoulder", "elbow", "wrist")
    """Joint names; each gives the feature <joint>.pos (degrees)."""
    link_lengths: tuple[float, ...] = (0.12, 0.10, 0.06)
    """Length of each link, metres, one per joint."""
    fps: int = 30
    """Control rate assumed by the joint speed limit, Hz."""
    max_speed_deg_s: float = 180.0
    """Fastest joint motion, degrees per second."""
    limit_deg: float = 170.0
    """Joint limit, degrees either side of zero."""
    image_size: int = 96
    """Side of the rendered top view, pixels; 0 = no rendered camera."""
    seed: int | None = None
    """Initial joint positions: zeros if None, else random within +-30 degrees from this seed."""
    cameras: dict[str, CameraConfig] = field(default_factory=dict)
    """Extra cameras by name, JSON: '{"wrist": {"type": "sim", "width": 64, "height": 48}}'."""


class SimArm(SimRobot):
    """See the module docstring."""

    config_class = SimArmConfig
    name = "sim_arm"

    def __init__(self, config: SimArmConfig | None = None):
        super().__init__(config or SimArmConfig())
        if len(self.config.link_lengths) != len(self.config.joints):
            raise ConfigError(
                f"SimArmConfig: {len(self.config.joints)} joints but {len(self.config.link_lengths)} link_lengths"
            )
        from robotlearn.cameras import make_cameras_from_configs

        self.cameras = make_cameras_from_configs(self.config.cameras)
        self.q: np.ndarray | None = None  # joint positions, degrees

    @property
    def motor_names(self) -> list[str]:
        return [f"{j}.pos" for j in self.config.joints]

    @property
    def observation_features(self) -> dict[str, Any]:
        feats: dict[str, Any] = {name: float for name in self.motor_names}
        if self.config.image_size > 0:
            feats["top"] = (self.config.image_size, self.config.image_size, 3)
        for name, cam in self.config.cameras.items():
            feats[name] = (cam.height, cam.width, 3)
        return feats

    @property
    def action_features(self) -> dict[str, Any]:
        return {name: float for name in self.motor_names}

    @property
    def is_connected(self) -> bool:
        return self.q is not None

    def connect(self, calibrate: bool = True) -> None:
        if self.q is not None:
            raise DeviceAlreadyConnectedError("SimArm is already connected")
        for cam in self.cameras.values():
            cam.connect()
        self.q = np.zeros(len(self.config.joints))
        self._rng = np.random.default_rng(self.config.seed)
        self.reset_episode()

    def reset_episode(self) -> None:
        """Joints back to zero (or, with a seed, to a random pose within +-30 degrees)."""
        self._require()
        n = len(self.config.joints)
        self.q = np.zeros(n) if self.config.seed is None else self._rng.uniform(-30, 30, n)

    def _require(self):
        if self.q is None:
            raise DeviceNotConnectedError("SimArm is not connected: call robot.connect() first")

    def forward_kinematics(self, q_deg: np.ndarray | None = None) -> np.ndarray:
        """Positions (metres) of the base and of each link's end, shape (n_joints + 1, 2)."""
        q = np.radians(self.q if q_deg is None else q_deg)
        angles = np.cumsum(q)
        steps = np.stack([np.cos(angles), np.sin(angles)], -1) * np.array(self.config.link_lengths)[:, None]
        return np.vstack([np.zeros(2), np.cumsum(steps, axis=0)])

    def render(self) -> np.ndarray:
        """Top view (image_size, image_size, 3) uint8: grey links, red joints, on white."""
        from PIL import Image, ImageDraw

        size = self.config.image_size
        reach = sum(self.config.link_lengths) * 1.1
        pts = self.forward_kinematics()
        pix = [((x / reach + 1) * size / 2, (1 - y / reach) * size / 2) for x, y in pts]
        img = Image.new("RGB", (size, size), (255, 255, 255))
        draw = ImageDraw.Draw(img)
        draw.line(pix, fill=(90, 90, 90), width=max(1, size // 24))
        r = max(1, size // 40)
        for x, y in pix:
            draw.ellipse([x - r, y - r, x + r, y + r], fill=(200, 30, 30))
        return np.asarray(img, dtype=np.uint8)

    def get_observation(self) -> dict[str, Any]:
        self._require()
        obs: dict[str, Any] = {name: float(v) for name, v in zip(self.motor_names, self.q)}
        if self.config.image_size > 0:
            obs["top"] = self.render()
        for name, cam in self.cameras.items():
            obs[name] = cam.async_read()
        return obs

    def send_action(self, action: dict[str, Any]) -> dict[str, Any]:
        """Move toward the goal positions (degrees) at most max_speed/fps per call; returns the clipped goals."""
        self._require()
        missing = [n for n in self.motor_names if n not in action]
        if missing:
            raise KeyError(f"SimArm.send_action: missing {missing}; expected {self.motor_names}")
        lim = self.config.limit_deg
        goal = np.clip(np.array([float(action[n]) for n in self.motor_names]), -lim, lim)
        max_step = self.config.max_speed_deg_s / self.config.fps
        self.q = self.q + np.clip(goal - self.q, -max_step, max_step)
        return {name: float(v) for name, v in zip(self.motor_names, goal)}

    def disconnect(self) -> None:
        self._require()
        for cam in self.cameras.values():
            cam.disconnect()
        self.q = None
