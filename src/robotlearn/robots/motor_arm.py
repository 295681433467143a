"""`MotorArmFollower`: what every serial-servo follower arm shares (SO-100, SO-101, Koch).

A concrete arm only says which motors it has (`motor_specs`), which bus speaks to them
(`bus_class`), which joints spin freely (`full_turn_motors`) and how to configure the motors
(`configure`). Everything else lives here:

    observation_features = {"shoulder_pan.pos": float, ..., "gripper.pos": float, "<camera>": (H, W, 3)}
    action_features      = {"shoulder_pan.pos": float, ..., "gripper.pos": float}

Joint positions are normalized by the calibration: -100..100 over each joint's range (or degrees
with `use_degrees=True`), gripper 0..100. The calibration file is
`<calibration dir>/robots/<type>/<id>.json` (see `robotlearn.motors.calibration`); at connect it
is loaded and, if the motors hold other offsets/limits (e.g. a motor was swapped), written to them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from robotlearn.cameras.camera import CameraConfig
from robotlearn.motors import Motor, MotorNormMode, MotorsBus, calibration_path, load_calibration, save_calibration
from robotlearn.motors.calibration import enter_pressed, run_calibration
from robotlearn.robots.robot import Robot, RobotAlreadyConnectedError, RobotConfig, RobotNotConnectedError

logger = logging.getLogger(__name__)


@dataclass
class MotorArmConfig(RobotConfig):
    """Options shared by serial-servo follower arms."""

    port: str = field(default="", metadata={"help": "Serial port of the arm's motor bus, e.g. /dev/ttyACM0 (find it with `robotlearn find-port`)."})
    cameras: dict[str, CameraConfig] = field(default_factory=dict, metadata={"help": "Cameras by name, JSON: '{\"front\": {\"type\": \"opencv\", \"index_or_path\": 0, \"width\": 640, \"height\": 480, \"fps\": 30}}'."})
    max_relative_target: float | None = field(default=None, metadata={"help": "Safety limit: largest change of a joint's goal per action, relative to its present position (normalized units). None = no limit."})
    use_degrees: bool = field(default=False, metadata={"help": "Joint positions in degrees instead of -100..100 (gripper stays 0..100)."})
    disable_torque_on_disconnect: bool = field(default=True, metadata={"help": "Turn torque off at disconnect so the arm can be moved by hand (it will drop under gravity)."})
    calibration_dir: str | None = field(default=None, metadata={"help": "Root directory of calibration files (default: $ROBOTLEARN_CALIBRATION_DIR or ~/.cache/robotlearn/calibration)."})


def joint_motors(specs: dict[str, tuple[int, str]], use_degrees: bool) -> dict[str, Motor]:
    """name -> (id, model) into Motors; the gripper is 0..100, other joints -100..100 or degrees."""
    body = MotorNormMode.DEGREES if use_degrees else MotorNormMode.RANGE_M100_100
    return {n: Motor(i, model, MotorNormMode.RANGE_0_100 if n == "gripper" else body) for n, (i, model) in specs.items()}


def make_cameras(configs: dict[str, Any]) -> dict[str, Any]:
    """Cameras (not connected) from configs, or from plain dicts `{"type": "opencv", ...}`."""
    from robotlearn.cameras import make_camera, make_camera_config

    return {n: make_camera(c if not isinstance(c, dict) else make_camera_config(**c)) for n, c in configs.items()}


class MotorArmFollower(Robot):
    """Base class of follower arms on one motor bus plus optional cameras. See the module docstring."""

    config_class = MotorArmConfig
    name = "motor_arm"
    bus_class: type[MotorsBus] = MotorsBus
    motor_specs: dict[str, tuple[int, str]] = {}  # name -> (ID, model)
    full_turn_motors: tuple[str, ...] = ()

    def __init__(self, config: MotorArmConfig):
        super().__init__(config)
        self.config: MotorArmConfig = config
        self.calibration_fpath = calibration_path("robots", self.name, config.id, config.calibration_dir)
        calibration = load_calibration(self.calibration_fpath) if self.calibration_fpath.is_file() else None
        self.bus = self.bus_class(config.port, joint_motors(self.motor_specs, config.use_degrees), calibration)
        self.cameras = make_cameras(config.cameras)
        self._connected = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(port={self.config.port!r}, id={self.config.id!r})"

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
        """Open the bus, apply or run the calibration, configure the motors, open the cameras.

        calibrate: when no calibration file exists, run the interactive calibration (True) or
        connect uncalibrated (False: positions cannot be read normalized until `calibrate()`).
        """
        if self._connected:
            raise RobotAlreadyConnectedError(f"{self} is already connected")
        if not self.config.port:
            raise ValueError(f"{self.name}: no port given. Set --robot.port (run `robotlearn find-port` to find it).")
        self.bus.connect()
        opened = []
        try:
            if self.bus.calibration is None:
                if calibrate:
                    self.calibrate()
                else:
                    logger.warning("%s: no calibration at %s; call calibrate() before reading positions", self, self.calibration_fpath)
            elif not self.bus.motors_match_calibration(self.bus.calibration):
                logger.info("%s: motors differ from %s; writing the file's calibration to them", self, self.calibration_fpath)
                self.bus.disable_torque()
                self.bus.write_calibration(self.bus.calibration)
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

    @property
    def is_calibrated(self) -> bool:
        return self.bus.calibration is not None and (not self.bus.is_connected or self.bus.motors_match_calibration(self.bus.calibration))

    def prepare_for_calibration(self) -> None:
        """Put the motors in a mode where homing offsets apply (torque is off). Subclasses override."""

    def calibrate(self, prompt: Callable[[str], str] = input, done: Callable[[], bool] = enter_pressed) -> None:
        """Interactive calibration (see `robotlearn.motors.calibration.run_calibration`), saved to
        `self.calibration_fpath`. `prompt`/`done` default to the terminal."""
        if not self.bus.is_connected:
            raise RobotNotConnectedError(f"{self} is not connected: call connect(calibrate=False) before calibrate()")
        self.bus.disable_torque()
        self.prepare_for_calibration()
        print(f"Calibrating {self.name} (id {self.config.id!r}) on {self.config.port}")
        calibration = run_calibration(self.bus, self.full_turn_motors, prompt=prompt, done=done)
        save_calibration(self.calibration_fpath, calibration)
        print(f"Calibration saved to {self.calibration_fpath}")

    def configure(self) -> None:
        """Motor settings applied at every connect (operating mode, PID, limits). Subclasses override."""

    def hold_present_pose(self) -> None:
        """Goal := present position, so enabling torque does not make the arm jump."""
        present = self.bus.sync_read("Present_Position", normalize=False)
        self.bus.sync_write("Goal_Position", present, normalize=False)

    def disconnect(self) -> None:
        if not self._connected:
            raise RobotNotConnectedError(f"{self} is not connected")
        try:
            self.bus.disconnect(disable_torque=self.config.disable_torque_on_disconnect)
        finally:
            for cam in self.cameras.values():
                if cam.is_connected:
                    cam.disconnect()
            self._connected = False

    def _require_connected(self) -> None:
        if not self._connected:
            raise RobotNotConnectedError(f"{self} is not connected: call robot.connect() first")

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
