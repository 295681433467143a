"""One simulated servo: a control-table memory plus a little physics.

The servo keeps an *actual* encoder position (float ticks). With torque on it moves toward the
goal at `speed` ticks/s; with torque off it follows `motion(t)` if set (a hand moving a leader
arm), else stays put. Present_Position is derived from the actual position and Homing_Offset
with each protocol's convention, so calibration code is exercised for real.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from robotlearn.motors import dynamixel, feetech
from robotlearn.motors.bus import decode_sign_magnitude, encode_sign_magnitude

ACCESS_ERROR = 7  # Dynamixel status error number


class SimServo:
    """A servo of `model` ("sts3215", "xl330-m288", ...) speaking `protocol` ("feetech"|"dynamixel")."""

    def __init__(self, motor_id: int, model: str, protocol: str, position: float = 2048.0, speed: float = 8000.0):
        self.protocol = protocol
        self.model = model
        if protocol == "feetech":
            self.table, number = feetech.STS_CONTROL_TABLE, feetech.MODEL_NUMBERS[model]
        elif protocol == "dynamixel":
            self.table, number = dynamixel.CONTROL_TABLES[model], dynamixel.MODEL_NUMBERS[model]
        else:
            raise ValueError(f"unknown protocol {protocol!r}; use 'feetech' or 'dynamixel'")
        self.mem = bytearray(256)
        self.id = motor_id
        self.model_number = number
        self.actual = float(position)
        self.target = float(position)
        self.speed = speed  # ticks per second
        self.motion: Callable[[float], float] | None = None  # t (s) -> actual ticks, while torque is off
        self._t0 = self._last = time.monotonic()
        self._set("Model_Number", number)
        self._set("ID", motor_id)
        self._set("Max_Position_Limit", 4095)
        self._set("Firmware_Major_Version" if protocol == "feetech" else "Firmware_Version", 3)
        if protocol == "feetech":
            self._set("Response_Status_Level", 1)
            self._set("Return_Delay_Time", 250)
        else:
            self._set("Operating_Mode", 3)
            self._set("Status_Return_Level", 2)
        self._set("Goal_Position", self._present())

    # -- raw memory helpers
    def _get(self, name: str) -> int:
        addr, size = self.table[name]
        return int.from_bytes(self.mem[addr : addr + size], "little")

    def _set(self, name: str, value: int) -> None:
        addr, size = self.table[name]
        self.mem[addr : addr + size] = (value % (1 << (8 * size))).to_bytes(size, "little")

    def _signed(self, name: str) -> int:
        raw, size = self._get(name), self.table[name][1]
        if self.protocol == "feetech":
            return decode_sign_magnitude(raw, feetech.SIGN_BITS[name]) if name in feetech.SIGN_BITS else raw
        return raw - (1 << (8 * size)) if name in dynamixel.SIGNED_REGISTERS and raw >= 1 << (8 * size - 1) else raw

    def _set_signed(self, name: str, value: int) -> None:
        if self.protocol == "feetech" and name in feetech.SIGN_BITS:
            value = encode_sign_magnitude(value, feetech.SIGN_BITS[name])
        self._set(name, value)

    # -- physics
    @property
    def torque(self) -> bool:
        return bool(self._get("Torque_Enable"))

    def _present(self) -> int:
        offset = self._signed("Homing_Offset")
        if self.protocol == "feetech":
            return int(round(self.actual - offset)) % 4096
        return int(round(self.actual)) + offset

    def _goal_to_actual(self, goal: int) -> float:
        offset = self._signed("Homing_Offset")
        if self.protocol == "feetech":
            lo, hi = self._get("Min_Position_Limit"), self._get("Max_Position_Limit")
            if lo < hi:  # the servo clamps goals to its angle limits
                goal = min(max(goal, lo), hi)
            return float((goal + offset) % 4096)
        if self._get("Operating_Mode") == 3:  # single-turn position mode honours the limits
            goal = min(max(goal, self._signed("Min_Position_Limit")), self._signed("Max_Position_Limit"))
        return float(goal - offset)

    def update(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        dt, self._last = now - self._last, now
        if self.torque:
            step = self.speed * dt
            delta = self.target - self.actual
            self.actual = self.target if abs(delta) <= step else self.actual + step * (1 if delta > 0 else -1)
        elif self.motion is not None:
            self.actual = float(self.motion(now - self._t0))
        moving = int(self.torque and abs(self.target - self.actual) > 0.5)
        self._set("Moving", moving)
        self._set_signed("Present_Position", self._present())

    # -- protocol-facing access
    def read(self, addr: int, size: int) -> bytes:
        self.update()
        return bytes(self.mem[addr : addr + size])

    def write(self, addr: int, data: bytes) -> int:
        """Apply a write; returns the status error code (0 = ok)."""
        self.update()
        if self.protocol == "dynamixel" and addr < 64 and self.torque:
            return ACCESS_ERROR
        self.mem[addr : addr + len(data)] = data
        written = {name for name, (a, s) in self.table.items() if a < addr + len(data) and addr < a + s}
        if "Torque_Enable" in written and self.torque:
            self.target = self.actual  # enabling torque holds the current pose
        if "Goal_Position" in written:
            self.target = self._goal_to_actual(self._signed("Goal_Position"))
        if "ID" in written:
            self.id = self._get("ID")
        return 0

    # -- conveniences for tests and the CLI
    @property
    def goal_position(self) -> int:
        """Goal_Position register, signed."""
        return self._signed("Goal_Position")

    @property
    def present_position(self) -> int:
        self.update()
        return self._present()

    def register(self, name: str) -> int:
        """Signed value of a register by name."""
        self.update()
        return self._signed(name)
