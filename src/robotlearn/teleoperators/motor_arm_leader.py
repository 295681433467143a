"""`MotorArmLeader`: a leader arm (SO-100/101, Koch) whose joint positions, moved by hand, are the
actions of the matching follower.

    action_features = {"shoulder_pan.pos": float, ..., "gripper.pos": float}

Torque stays off so the arm moves freely; positions are normalized with the leader's own
calibration (`<calibration dir>/teleoperators/<type>/<id>.json`) so that the same pose of leader
and follower gives the same numbers even though their motors' raw readings differ. The file is
written by `robotlearn calibrate --teleop.type=<type> --teleop.port=... --teleop.id=...`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from robotlearn.errors import DeviceAlreadyConnectedError, DeviceNotConnectedError
from robotlearn.robots.servo_device import ServoBusDevice
from robotlearn.teleoperators.teleoperator import Teleoperator, TeleoperatorConfig


@dataclass
class MotorArmLeaderConfig(TeleoperatorConfig):
    """Options shared by leader arms."""

    port: str = ""
    """Serial port of the leader arm, e.g. /dev/ttyACM1 (find it with `robotlearn find-port`)."""
    use_degrees: bool = False
    """Joint positions in degrees instead of -100..100 (must match the follower)."""
    calibration_dir: str | None = None
    """Root directory of calibration files (default: $ROBOTLEARN_CALIBRATION_DIR or ~/.cache/robotlearn/calibration)."""


class MotorArmLeader(ServoBusDevice, Teleoperator):
    """Base class of leader arms; subclasses set bus_class, motor_specs, full_turn_motors, configure()."""

    config_class = MotorArmLeaderConfig
    name = "motor_arm_leader"
    calibration_kind = "teleoperators"
    flag_prefix = "teleop"

    def __init__(self, config: MotorArmLeaderConfig):
        super().__init__(config)
        self.config: MotorArmLeaderConfig = config
        self._init_bus()
        self._connected = False

    @property
    def action_features(self) -> dict[str, Any]:
        return {f"{m}.pos": float for m in self.bus.motors}

    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self, calibrate: bool = True) -> None:
        """Open the bus, apply the calibration file, set the motors free. Never prompts; see
        `MotorArmFollower.connect` (a missing file raises CalibrationError naming the command)."""
        if self._connected:
            raise DeviceAlreadyConnectedError(f"{self} is already connected")
        self._open_bus(calibrate)
        try:
            self.configure()
        except BaseException:
            self.bus.disconnect()
            raise
        self._connected = True

    def configure(self) -> None:
        """Torque off everywhere (the hand moves the arm). Subclasses may change modes."""
        self.bus.disable_torque()

    def get_action(self) -> dict[str, Any]:
        """Present joint positions as the follower's action `{"<motor>.pos": float}`."""
        if not self._connected:
            raise DeviceNotConnectedError(f"{self} is not connected: call connect() first")
        return {f"{m}.pos": float(v) for m, v in self.bus.sync_read("Present_Position").items()}

    def disconnect(self) -> None:
        if not self._connected:
            raise DeviceNotConnectedError(f"{self} is not connected")
        try:
            self.bus.disconnect(disable_torque=True)
        finally:
            self._connected = False
