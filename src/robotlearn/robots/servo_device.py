"""`ServoBusDevice`: the part follower and leader arms share, a servo bus with a calibration file.

A follower arm (`motor_arm.MotorArmFollower`, a Robot) and a leader arm
(`teleoperators.motor_arm_leader.MotorArmLeader`, a Teleoperator) both drive one bus of serial
servos whose positions are normalized with the unit's calibration file,
`<calibration dir>/<robots|teleoperators>/<type>/<id>.json`. This mixin holds that part:

- opening the bus at `connect()`: the file is applied (written to the motors if they hold other
  offsets, e.g. a motor was swapped); a missing file raises `CalibrationError` naming the
  `robotlearn calibrate` command that writes it, so `connect()` never prompts;
- the non-interactive steps of the calibration procedure, which `robotlearn calibrate`
  (`robotlearn.robots.calibrate.calibrate_device`) drives: `begin_calibration()`,
  `set_homing()`, `record_ranges(done)`, `finish_calibration(...)`.

Subclasses set `bus_class`, `motor_specs`, `full_turn_motors`, `calibration_kind` and
`flag_prefix`, and override `prepare_for_calibration()` and `configure()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from robotlearn.errors import CalibrationError, ConfigError, DeviceNotConnectedError
from robotlearn.motors import (
    Motor,
    MotorNormMode,
    MotorsBus,
    calibration_from_ranges,
    calibration_path,
    load_calibration,
    save_calibration,
)

logger = logging.getLogger(__name__)


def joint_motors(specs: dict[str, tuple[int, str]], use_degrees: bool) -> dict[str, Motor]:
    """name -> (id, model) into Motors; the gripper is 0..100, other joints -100..100 or degrees."""
    body = MotorNormMode.DEGREES if use_degrees else MotorNormMode.RANGE_M100_100
    return {
        n: Motor(i, model, MotorNormMode.RANGE_0_100 if n == "gripper" else body) for n, (i, model) in specs.items()
    }


class ServoBusDevice:
    """Mixin of arms built from servos on one bus; see the module docstring.

    Expects `self.name` (the registered type name) and `self.config` with `port`, `id`,
    `use_degrees` and `calibration_dir`; call `_init_bus()` from `__init__`.
    """

    bus_class: type[MotorsBus] = MotorsBus
    motor_specs: dict[str, tuple[int, str]] = {}  # name -> (ID, model)
    full_turn_motors: tuple[str, ...] = ()  # joints that spin freely: the whole encoder range
    calibration_kind: str = "robots"  # calibration subdirectory: "robots" or "teleoperators"
    flag_prefix: str = "robot"  # command-line prefix of this device's flags: "robot" or "teleop"

    bus: MotorsBus
    calibration_fpath: Path

    def _init_bus(self) -> None:
        cfg = self.config
        self.calibration_fpath = calibration_path(self.calibration_kind, self.name, cfg.id, cfg.calibration_dir)
        calibration = load_calibration(self.calibration_fpath) if self.calibration_fpath.is_file() else None
        self.bus = self.bus_class(cfg.port, joint_motors(self.motor_specs, cfg.use_degrees), calibration)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(port={self.config.port!r}, id={self.config.id!r})"

    @property
    def calibrate_command(self) -> str:
        """The `robotlearn calibrate` command that writes this unit's calibration file."""
        p, cfg = self.flag_prefix, self.config
        flags = [f"--{p}.type={self.name}", f"--{p}.port={cfg.port or 'PORT'}"]
        if cfg.id is not None:
            flags.append(f"--{p}.id={cfg.id}")
        if cfg.calibration_dir is not None:
            flags.append(f"--{p}.calibration_dir={cfg.calibration_dir}")
        return "robotlearn calibrate " + " ".join(flags)

    # ------------------------------------------------------------------ connect
    def _open_bus(self, calibrate: bool) -> None:
        """Open the bus and apply the calibration file (see the module docstring).

        calibrate=False opens it without a calibration (for the calibration procedure).
        Raises ConfigError without a port, the bus's errors (PortNotFoundError,
        MotorNotFoundError) if it cannot be reached, then CalibrationError if the file is missing.
        """
        if not self.config.port:
            raise ConfigError(
                f"{self.name}: no port given. Set --{self.flag_prefix}.port (run `robotlearn find-port` to find it)."
            )
        self.bus.connect()  # first: a wrong port or a missing motor is the first thing to fix
        try:
            if self.bus.calibration is None:
                if calibrate:
                    raise CalibrationError(
                        f"{self.name} {self.config.id or 'default'!r}: no calibration file at {self.calibration_fpath}. "
                        f"Calibrate this arm first: {self.calibrate_command}"
                    )
                logger.info("%s: connected without calibration (%s missing)", self, self.calibration_fpath)
            elif not self.bus.motors_match_calibration(self.bus.calibration):
                logger.info(
                    "%s: motors differ from %s; writing the file's calibration to them", self, self.calibration_fpath
                )
                self.bus.disable_torque()
                self.bus.write_calibration(self.bus.calibration)
        except BaseException:
            self.bus.disconnect()
            raise

    @property
    def is_calibrated(self) -> bool:
        """True if a calibration is loaded and (when connected) the motors hold it."""
        return self.bus.calibration is not None and (
            not self.bus.is_connected or self.bus.motors_match_calibration(self.bus.calibration)
        )

    def configure(self) -> None:
        """Motor settings applied at every connect (operating mode, PID, torque). Subclasses override."""

    def prepare_for_calibration(self) -> None:
        """Put the motors in a mode where homing offsets apply (torque is off). Subclasses override."""

    # ------------------------------------------------------------------ calibration steps
    @property
    def ranged_motors(self) -> list[str]:
        """The joints whose range of motion is recorded (all but `full_turn_motors`)."""
        return [m for m in self.bus.motors if m not in self.full_turn_motors]

    def begin_calibration(self) -> None:
        """Step 1: torque off, motors in calibration mode. Needs the bus open (`connect(calibrate=False)`)."""
        if not self.bus.is_connected:
            raise DeviceNotConnectedError(f"{self} is not connected: call connect(calibrate=False) before calibrating")
        self.bus.disable_torque()
        self.prepare_for_calibration()

    def set_homing(self) -> dict[str, int]:
        """Step 2, with every joint held mid-range: write homing offsets so that pose reads half a
        turn; returns them (raw ticks)."""
        return self.bus.set_half_turn_homings()

    def record_ranges(self, done: Callable[[], bool], poll_s: float = 0.02) -> tuple[dict[str, int], dict[str, int]]:
        """Step 3, while the joints are swept through their ranges: min and max raw positions of
        `ranged_motors`, polled every `poll_s` seconds until `done()`."""
        return self.bus.record_ranges_of_motion(self.ranged_motors, done=done, poll_s=poll_s)

    def finish_calibration(
        self, offsets: dict[str, int], mins: dict[str, int], maxes: dict[str, int]
    ) -> dict[str, Any]:
        """Step 4: build the calibration, write it to the motors and to `calibration_fpath`, and
        configure the motors for use again. CalibrationError if a joint never moved."""
        calibration = calibration_from_ranges(
            self.bus.motors,
            offsets,
            mins,
            maxes,
            self.full_turn_motors,
            self.bus.resolution,
            source=f"{self.name} on {self.bus.port}",
        )
        self.bus.write_calibration(calibration)
        save_calibration(self.calibration_fpath, calibration)
        self.configure()
        return calibration
