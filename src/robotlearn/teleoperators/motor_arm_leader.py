"""`MotorArmLeader`: a leader arm (SO-100/101, Koch) whose joint positions, moved by hand, are the
actions of the matching follower.

    action_features = {"shoulder_pan.pos": float, ..., "gripper.pos": float}

Torque stays off so the arm moves freely; positions are normalized with the leader's own
calibration (`<calibration dir>/teleoperators/<type>/<id>.json`) so that the same pose of leader
and follower gives the same numbers even though their motors' raw readings differ.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from robotlearn.motors import MotorsBus, calibration_path, load_calibration, save_calibration
from robotlearn.motors.calibration import enter_pressed, run_calibration
from robotlearn.robots.motor_arm import joint_motors
from robotlearn.robots.robot import RobotAlreadyConnectedError, RobotNotConnectedError
from robotlearn.teleoperators.teleoperator import Teleoperator, TeleoperatorConfig

logger = logging.getLogger(__name__)


@dataclass
class MotorArmLeaderConfig(TeleoperatorConfig):
    """Options shared by leader arms."""

    port: str = field(default="", metadata={"help": "Serial port of the leader arm, e.g. /dev/ttyACM1 (find it with `robotlearn find-port`)."})
    use_degrees: bool = field(default=False, metadata={"help": "Joint positions in degrees instead of -100..100 (must match the follower)."})
    calibration_dir: str | None = field(default=None, metadata={"help": "Root directory of calibration files (default: $ROBOTLEARN_CALIBRATION_DIR or ~/.cache/robotlearn/calibration)."})


class MotorArmLeader(Teleoperator):
    """Base class of leader arms; subclasses set bus_class, motor_specs, full_turn_motors, configure()."""

    config_class = MotorArmLeaderConfig
    name = "motor_arm_leader"
    bus_class: type[MotorsBus] = MotorsBus
    motor_specs: dict[str, tuple[int, str]] = {}
    full_turn_motors: tuple[str, ...] = ()

    def __init__(self, config: MotorArmLeaderConfig):
        super().__init__(config)
        self.config: MotorArmLeaderConfig = config
        self.calibration_fpath = calibration_path("teleoperators", self.name, config.id, config.calibration_dir)
        calibration = load_calibration(self.calibration_fpath) if self.calibration_fpath.is_file() else None
        self.bus = self.bus_class(config.port, joint_motors(self.motor_specs, config.use_degrees), calibration)
        self._connected = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(port={self.config.port!r}, id={self.config.id!r})"

    @property
    def action_features(self) -> dict[str, Any]:
        return {f"{m}.pos": float for m in self.bus.motors}

    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self, calibrate: bool = True) -> None:
        """Open the bus, apply or run the calibration, set the motors free. See MotorArmFollower.connect."""
        if self._connected:
            raise RobotAlreadyConnectedError(f"{self} is already connected")
        if not self.config.port:
            raise ValueError(f"{self.name}: no port given. Set --teleop.port (run `robotlearn find-port` to find it).")
        self.bus.connect()
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
        except BaseException:
            self.bus.disconnect()
            raise
        self._connected = True

    @property
    def is_calibrated(self) -> bool:
        return self.bus.calibration is not None and (not self.bus.is_connected or self.bus.motors_match_calibration(self.bus.calibration))

    def prepare_for_calibration(self) -> None:
        """Put the motors in a mode where homing offsets apply (torque is off). Subclasses override."""

    def calibrate(self, prompt: Callable[[str], str] = input, done: Callable[[], bool] = enter_pressed) -> None:
        """Interactive calibration, saved to `self.calibration_fpath` (see MotorArmFollower.calibrate)."""
        if not self.bus.is_connected:
            raise RobotNotConnectedError(f"{self} is not connected: call connect(calibrate=False) before calibrate()")
        self.bus.disable_torque()
        self.prepare_for_calibration()
        print(f"Calibrating {self.name} (id {self.config.id!r}) on {self.config.port}")
        calibration = run_calibration(self.bus, self.full_turn_motors, prompt=prompt, done=done)
        save_calibration(self.calibration_fpath, calibration)
        print(f"Calibration saved to {self.calibration_fpath}")

    def configure(self) -> None:
        """Torque off everywhere (the hand moves the arm). Subclasses may change modes."""
        self.bus.disable_torque()

    def get_action(self) -> dict[str, Any]:
        """Present joint positions as the follower's action `{"<motor>.pos": float}`."""
        if not self._connected:
            raise RobotNotConnectedError(f"{self} is not connected: call connect() first")
        return {f"{m}.pos": float(v) for m, v in self.bus.sync_read("Present_Position").items()}

    def disconnect(self) -> None:
        if not self._connected:
            raise RobotNotConnectedError(f"{self} is not connected")
        try:
            self.bus.disconnect(disable_torque=True)
        finally:
            self._connected = False
