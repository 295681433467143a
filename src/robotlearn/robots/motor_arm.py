"""`MotorArmFollower`: what every serial-servo follower arm shares (SO-100, SO-101, Koch).

A concrete arm only says which motors it has (`motor_specs`), which bus speaks to them
(`bus_class`), which joints spin freely (`full_turn_motors`) and how to configure the motors
(`configure`). Everything else lives here and in `servo_device.ServoBusDevice`:

    observation_features = {"shoulder_pan.pos": float, ..., "gripper.pos": float, "<camera>": (H, W, 3)}
    action_features      = {"shoulder_pan.pos": float, ..., "gripper.pos": float}

Joint positions are normalized by the calibration: -100..100 over each joint's range (or degrees
with `use_degrees=True`), gripper 0..100. The calibration file is
`<calibration dir>/robots/<type>/<id>.json` (see `robotlearn.motors.calibration`), written by
`robotlearn calibrate --robot.type=<type> --robot.port=... --robot.id=...`; at connect it is
loaded and, if the motors hold other offsets/limits (e.g. a motor was swapped), written to them.
Without it `connect()` raises CalibrationError naming that command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from robotlearn.cameras.camera import CameraConfig
from robotlearn.errors import DeviceAlreadyConnectedError, DeviceNotConnectedError
from robotlearn.robots.robot import Robot, RobotConfig
from robotlearn.robots.servo_device import ServoBusDevice


@dataclass
class MotorArmConfig(RobotConfig):
    """Options shared by serial-servo follower arms."""

    port: str = ""
    """Serial port of the arm's motor bus, e.g. /dev/ttyACM0 (find it with `robotlearn find-port`)."""
    cameras: dict[str, CameraConfig] = field(default_factory=dict)
    """Cameras by name, JSON: '{"front": {"type": "opencv", "index_or_path": 0, "width": 640, "height": 480, "fps": 30}}'."""
    max_relative_target: float | None = None
    """Safety limit: largest change of a joint's goal per action, relative to its present position (normalized units). None = no limit."""
    use_degrees: bool = False
    """Joint positions in degrees instead of -100..100 (gripper stays 0..100)."""
    disable_torque_on_disconnect: bool = True
    """Turn torque off at disconnect so the arm can be moved by hand (it will drop under gravity)."""
    calibration_dir: str | None = None
    """Root directory of calibration files (default: $ROBOTLEARN_CALIBRATION_DIR or ~/.cache/robotlearn/calibration)."""


class MotorArmFollower(ServoBusDevice, Robot):
    """Base class of follower arms on one motor bus plus optional cameras. See the module docstring."""

    config_class = MotorArmConfig
    name = "motor_arm"
    calibration_kind = "robots"
    flag_prefix = "robot"

    def __init__(self, config: MotorArmConfig):
        from robotlearn.cameras import make_cameras_from_configs

        super().__init__(config)
        self.config: MotorArmConfig = config
        self._init_bus()
        self.cameras = make_cameras_from_configs(config.cameras)
        self._connected = False

    # ------------------------------------------------------------------ features
    @property
    def observation_features(self) -> dict[str, Any]:
        features: dict[str, Any] = {f"{m}.pos": float for m in self.bus.motors}
        for name, cam in self.cameras.items():
            shape = getattr(cam, "shape", None)
            features[name] = shape if shape is not None else (cam.config.height, cam.config.width, 3)
        return features

    @property
    def action_features(self) -> dict[str, Any]:
        return {f"{m}.pos": float for m in self.bus.motors}

    # ------------------------------------------------------------------ connection
    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self, calibrate: bool = True) -> None:
        """Open the bus, apply the calibration file, configure the motors, open the cameras. Never prompts.

        calibrate: True (default) raises CalibrationError naming the `robotlearn calibrate`
        command when the calibration file is missing; False connects without one (positions
        cannot be read normalized until the arm is calibrated).
        """
        if self._connected:
            raise DeviceAlreadyConnectedError(f"{self} is already connected")
        self._open_bus(calibrate)
        opened = []
        try:
            self.configure()
            for cam in self.cameras.values():
                cam.connect()
                opened.append(cam)
        except BaseException:
            for cam in opened:
                cam.disconnect()
            self.bus.disconnect()
            raise
        self._connected = True

    def hold_present_pose(self) -> None:
        """Goal := present position, so enabling torque does not make the arm jump."""
        present = self.bus.sync_read("Present_Position", normalize=False)
        self.bus.sync_write("Goal_Position", present, normalize=False)

    def disconnect(self) -> None:
        if not self._connected:
            raise DeviceNotConnectedError(f"{self} is not connected")
        try:
            self.bus.disconnect(disable_torque=self.config.disable_torque_on_disconnect)
        finally:
            for cam in self.cameras.values():
                if cam.is_connected:
                    cam.disconnect()
            self._connected = False

    def _require_connected(self) -> None:
        if not self._connected:
            raise DeviceNotConnectedError(f"{self} is not connected: call robot.connect() first")

    # ------------------------------------------------------------------ control
    def get_observation(self) -> dict[str, Any]:
        """Joint positions (normalized floats) and the latest frame of each camera."""
        self._require_connected()
        obs: dict[str, Any] = {f"{m}.pos": float(v) for m, v in self.bus.sync_read("Present_Position").items()}
        for name, cam in self.cameras.items():
            obs[name] = cam.async_read()
        return obs

    def send_action(self, action: dict[str, Any]) -> dict[str, Any]:
        """Set goal positions from `{"<motor>.pos": value}` (any subset of the motors).

        With `max_relative_target`, each goal is first clipped to present ± that amount. Goals
        outside the calibrated range are clipped to it by the bus. Returns the goals sent.
        """
        self._require_connected()
        goal = {}
        for key, value in action.items():
            motor = key.removesuffix(".pos")
            if not key.endswith(".pos") or motor not in self.bus.motors:
                raise KeyError(f"{self.name}: unknown action key {key!r}; expected keys {list(self.action_features)}")
            goal[motor] = float(value)
        limit = self.config.max_relative_target
        if limit is not None and goal:
            present = self.bus.sync_read("Present_Position", list(goal))
            for m in goal:
                cap = limit[m] if isinstance(limit, dict) else limit
                goal[m] = min(max(goal[m], present[m] - cap), present[m] + cap)
        if goal:
            self.bus.sync_write("Goal_Position", goal)
        return {f"{m}.pos": v for m, v in goal.items()}
