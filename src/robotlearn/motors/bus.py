"""`MotorsBus`: a chain of serial servos on one port, addressed by motor name.

    bus = FeetechMotorsBus("/dev/ttyACM0", {"shoulder_pan": Motor(1, "sts3215"), ...})
    bus.connect()                                   # opens the port, pings every motor
    bus.sync_read("Present_Position")               # {"shoulder_pan": 12.5, ...} (normalized)
    bus.sync_write("Goal_Position", {"shoulder_pan": 0.0})

The wire format (packet framing, checksum, instruction parameters) lives in a `Codec` per
protocol (`feetech.py`, `dynamixel.py`); this file holds what both share: the serial transport
with timeouts and retries, name <-> ID mapping, value encoding, normalization and calibration.
Every exchange is "flush input, send one instruction, read the expected status packets"; a
timeout or checksum error retries the whole exchange `num_retries` times, then raises
`MotorCommunicationError` naming the port, motors and register.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from robotlearn.errors import DeviceError
from robotlearn.motors import calibration as calib
from robotlearn.motors.motor import (
    CalibrationError,
    Motor,
    MotorCommunicationError,
    MotorNormMode,
    MotorNotFoundError,
    MotorsBusNotConnectedError,
    PortNotFoundError,
)

logger = logging.getLogger(__name__)

try:
    import termios

    _PORT_ERRORS: tuple[type[BaseException], ...] = (OSError, termios.error)  # pyserial's SerialException is an OSError
except ImportError:  # Windows
    _PORT_ERRORS = (OSError,)

PING, READ, WRITE, SYNC_READ, SYNC_WRITE = 0x01, 0x02, 0x03, 0x82, 0x83
POSITION_REGISTERS = ("Present_Position", "Goal_Position")  # the registers `normalize=True` applies to


class PacketTimeout(DeviceError):
    """Fewer bytes than a full packet arrived before the deadline."""


class ChecksumError(DeviceError):
    """A packet arrived whole but its checksum/CRC does not match."""


class Codec:
    """Packet format of one protocol. Used by the bus (client) and by the simulator (servo side)."""

    name = "codec"
    BROADCAST_ID = 0xFE

    @staticmethod
    def instruction(motor_id: int, instr: int, params: bytes) -> bytes:
        raise NotImplementedError

    @staticmethod
    def status(motor_id: int, error: int, params: bytes) -> bytes:
        raise NotImplementedError

    @staticmethod
    def read_packet(read: Callable[[int], bytes]) -> tuple[int, int, bytes]:
        """Read one packet with `read(n) -> exactly n bytes`; returns (id, instruction-or-status code, params)."""
        raise NotImplementedError

    @staticmethod
    def split_status(code: int, params: bytes) -> tuple[int, bytes] | None:
        """(error, data) of a status packet, or None if the packet is not a status packet."""
        raise NotImplementedError

    FIELD_BYTES = 1  # width of the address and length fields of READ/WRITE/SYNC parameters

    @classmethod
    def addr(cls, addr: int) -> bytes:
        return addr.to_bytes(cls.FIELD_BYTES, "little")

    @classmethod
    def addr_len(cls, addr: int, size: int) -> bytes:
        return cls.addr(addr) + size.to_bytes(cls.FIELD_BYTES, "little")

    @classmethod
    def parse_addr_len(cls, params: bytes) -> tuple[int, int, bytes]:
        """(address, length, remaining params) of READ / SYNC_READ / SYNC_WRITE parameters."""
        f = cls.FIELD_BYTES
        return int.from_bytes(params[:f], "little"), int.from_bytes(params[f : 2 * f], "little"), params[2 * f :]


def encode_sign_magnitude(value: int, sign_bit: int) -> int:
    """Signed int -> sign-magnitude word (bit `sign_bit` set for negatives). ValueError if too large."""
    limit = (1 << sign_bit) - 1
    if abs(value) > limit:
        raise ValueError(f"magnitude {abs(value)} exceeds {limit} (sign bit {sign_bit})")
    return (1 << sign_bit) | -value if value < 0 else value


def decode_sign_magnitude(raw: int, sign_bit: int) -> int:
    """Sign-magnitude word -> signed int."""
    magnitude = raw & ((1 << sign_bit) - 1)
    return -magnitude if raw >> sign_bit & 1 else magnitude


class MotorsBus:
    """Base class; subclasses set `codec`, `control_tables`, `model_numbers` and the hooks below."""

    codec: type[Codec] = Codec
    control_tables: dict[str, dict[str, tuple[int, int]]] = {}  # model -> register -> (address, bytes)
    model_numbers: dict[str, int] = {}  # model -> number reported by the motor
    default_baudrate = 1_000_000
    resolution = 4096  # encoder ticks per turn

    def __init__(
        self,
        port: str,
        motors: dict[str, Motor],
        calibration: dict[str, calib.MotorCalibration] | None = None,
        *,
        baudrate: int | None = None,
        timeout_s: float = 0.1,
        num_retries: int = 3,
    ):
        """port: serial device path. motors: name -> Motor. calibration: name -> MotorCalibration
        (needed for normalized positions). timeout_s: max wait for one reply packet, seconds.
        num_retries: extra attempts after a timeout/checksum error before raising."""
        self.port = port
        self.motors = dict(motors)
        self.baudrate = baudrate or self.default_baudrate
        self.timeout_s = timeout_s
        self.num_retries = num_retries
        self._serial = None
        self._lock = threading.Lock()
        self._warned: set[tuple[int, int]] = set()
        for name, m in self.motors.items():
            if m.model not in self.control_tables:
                raise ValueError(
                    f"motor {name!r}: unknown model {m.model!r} for {type(self).__name__}; known: {sorted(self.control_tables)}"
                )
        ids = [m.id for m in self.motors.values()]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate motor IDs in {ids}: every motor on one bus needs its own ID")
        self.calibration = calibration

    # ------------------------------------------------------------------ calibration state
    @property
    def calibration(self) -> dict[str, calib.MotorCalibration] | None:
        return self._calibration

    @calibration.setter
    def calibration(self, value: dict[str, calib.MotorCalibration] | None) -> None:
        if value is not None:
            calib.check_calibration(value, self.motors, source=f"bus on {self.port}")
        self._calibration = value

    # ------------------------------------------------------------------ connection
    @property
    def is_connected(self) -> bool:
        return self._serial is not None and self._serial.is_open

    def connect(self) -> None:
        """Open the port and ping every motor. PortNotFoundError / MotorNotFoundError with the fix."""
        import serial  # lazy: pyserial is in the `hardware` extra

        if self.is_connected:
            return
        try:
            self._serial = serial.Serial(self.port, self.baudrate, timeout=0.005, write_timeout=1.0)
        except (serial.SerialException, OSError) as e:
            raise PortNotFoundError(
                f"cannot open serial port {self.port!r}: {e}. Check the path and the USB cable; "
                "run `robotlearn find-port` to find the right port (on Linux you may need "
                f"`sudo chmod 666 {self.port}` or membership of the dialout group)."
            ) from None
        try:
            self._check_motors()
        except Exception:
            self.disconnect(disable_torque=False)
            raise

    def _check_motors(self) -> None:
        missing, wrong = [], []
        for name, m in self.motors.items():
            model = self.ping(m.id)
            if model is None:
                missing.append(f"{name} (id {m.id})")
            elif model != self.model_numbers[m.model]:
                known = {v: k for k, v in self.model_numbers.items()}
                wrong.append(
                    f"{name} (id {m.id}) reports model {model} ({known.get(model, 'unknown')}), expected {m.model}"
                )
        if missing:
            raise MotorNotFoundError(
                f"{self.port}: no answer from motors {', '.join(missing)}. Check that the arm is powered, the "
                "daisy-chain cables are seated, the port is this arm's (`robotlearn find-port`), and that each "
                "motor's ID was set before assembly."
            )
        if wrong:
            raise MotorNotFoundError(
                f"{self.port}: unexpected motor models: {'; '.join(wrong)}. Check the motor config of this robot type."
            )

    def disconnect(self, disable_torque: bool = False) -> None:
        """Close the port, optionally turning torque off first (so the arm can be moved by hand)."""
        if not self.is_connected:
            return
        try:
            if disable_torque:
                self.disable_torque()
        finally:
            self._serial.close()
            self._serial = None

    def _require_connected(self) -> None:
        if not self.is_connected:
            raise MotorsBusNotConnectedError(f"bus on {self.port} is not connected; call connect() first")

    # ------------------------------------------------------------------ transport
    def _read_exact(self, deadline: float) -> Callable[[int], bytes]:
        def read(n: int) -> bytes:
            buf = b""
            while len(buf) < n:
                if time.monotonic() > deadline:
                    raise PacketTimeout(f"got {len(buf)} of {n} bytes")
                buf += self._serial.read(n - len(buf))
            return buf

        return read

    def _exchange(self, packet: bytes, reply_ids: list[int]) -> dict[int, tuple[int, bytes]]:
        """One attempt: send `packet`, read one status per ID in `reply_ids` -> {id: (error, data)}."""
        self._serial.reset_input_buffer()  # drop late replies of an earlier, timed-out exchange
        self._serial.write(packet)
        self._serial.flush()
        replies: dict[int, tuple[int, bytes]] = {}
        for motor_id in reply_ids:
            deadline = time.monotonic() + self.timeout_s
            read = self._read_exact(deadline)
            while True:
                try:
                    pid, code, params = self.codec.read_packet(read)
                except PacketTimeout:
                    raise PacketTimeout(motor_id) from None
                except ChecksumError:
                    raise ChecksumError(motor_id) from None
                status = self.codec.split_status(code, params)
                if status is not None and pid == motor_id:
                    replies[motor_id] = status
                    break  # anything else is an echo or a stray packet: keep reading until the deadline
        return replies

    def _transaction(self, packet: bytes, reply_ids: list[int], register: str) -> dict[int, tuple[int, bytes]]:
        self._require_connected()
        names = {m.id: n for n, m in self.motors.items()}
        last = None
        with self._lock:
            for _ in range(self.num_retries + 1):
                try:
                    replies = self._exchange(packet, reply_ids)
                    break
                except (PacketTimeout, ChecksumError) as e:
                    last = e
                except _PORT_ERRORS as e:  # the adapter vanished (USB unplugged)
                    raise MotorCommunicationError(
                        f"{self.port}: the serial port failed ({e}) while accessing {register!r}. Was the USB "
                        "cable unplugged? Reconnect it and connect() again.",
                        port=self.port,
                        motors=[names.get(i, str(i)) for i in reply_ids],
                        register=register,
                        reason="port error",
                    ) from None
            else:
                bad_id = last.args[0] if last.args else None
                motor = names.get(bad_id, f"id {bad_id}")
                reason = "timeout" if isinstance(last, PacketTimeout) else "checksum error"
                raise MotorCommunicationError(
                    f"{self.port}: {reason} reading the reply of motor {motor!r} (id {bad_id}) for register "
                    f"{register!r} after {self.num_retries + 1} attempts. Check the cable and power of that "
                    "motor; frequent errors mean a loose connector or a too long/noisy bus.",
                    port=self.port,
                    motors=[motor],
                    register=register,
                    reason=reason,
                ) from None
        for mid, (error, _) in replies.items():
            self._handle_status_error(names.get(mid, str(mid)), mid, error, register)
        return replies

    def _handle_status_error(self, name: str, motor_id: int, error: int, register: str) -> None:
        """Protocol-specific meaning of the status error byte; by default warn once per motor/error."""
        if error and (motor_id, error) not in self._warned:
            self._warned.add((motor_id, error))
            logger.warning(
                "%s: motor %r (id %d) reports error flags 0x%02x (register %s)",
                self.port,
                name,
                motor_id,
                error,
                register,
            )

    # ------------------------------------------------------------------ registers and values
    def _register(self, register: str, motor: str) -> tuple[int, int]:
        if motor not in self.motors:
            raise KeyError(f"unknown motor {motor!r} on {self.port}; motors: {list(self.motors)}")
        table = self.control_tables[self.motors[motor].model]
        if register not in table:
            raise KeyError(
                f"register {register!r} does not exist on model {self.motors[motor].model}; see its control table"
            )
        return table[register]

    def _encode(self, register: str, value: int, size: int) -> int:
        """Signed int -> unsigned register word (protocol-specific sign convention)."""
        return value

    def _decode(self, register: str, raw: int, size: int) -> int:
        return raw

    def _to_raw(self, register: str, motor: str, value: float, normalize: bool) -> int:
        if normalize and register in POSITION_REGISTERS and self.motors[motor].norm_mode != MotorNormMode.RAW:
            cal = self._motor_calibration(motor)
            return calib.unnormalize(value, cal, self.motors[motor].norm_mode, self.resolution)
        return int(round(value))

    def _from_raw(self, register: str, motor: str, raw: int, normalize: bool) -> float | int:
        if normalize and register in POSITION_REGISTERS and self.motors[motor].norm_mode != MotorNormMode.RAW:
            return calib.normalize(raw, self._motor_calibration(motor), self.motors[motor].norm_mode, self.resolution)
        return raw

    def _motor_calibration(self, motor: str) -> calib.MotorCalibration:
        if self._calibration is None:
            raise CalibrationError(
                f"{self.port}: motor {motor!r} has no calibration, so positions cannot be normalized. Calibrate the arm (`robotlearn calibrate`) or pass normalize=False."
            )
        return self._calibration[motor]

    def _word(self, register: str, motor: str, value: float, normalize: bool) -> bytes:
        _, size = self._register(register, motor)
        raw = self._to_raw(register, motor, value, normalize)
        try:
            word = self._encode(register, raw, size)
        except ValueError as e:
            raise ValueError(
                f"{self.port}: value {raw} for register {register!r} of motor {motor!r} cannot be encoded: {e}"
            ) from None
        if not 0 <= word < 1 << (8 * size):
            raise ValueError(
                f"{self.port}: value {raw} does not fit register {register!r} ({size} bytes) of motor {motor!r}"
            )
        return word.to_bytes(size, "little")

    # ------------------------------------------------------------------ public register access
    def ping(self, motor_id: int) -> int | None:
        """Model number of the motor with this ID, or None if it does not answer."""
        try:
            replies = self._transaction(self.codec.instruction(motor_id, PING, b""), [motor_id], "ping")
        except MotorCommunicationError:
            return None
        return self._model_from_ping(motor_id, replies[motor_id][1])

    def _model_from_ping(self, motor_id: int, data: bytes) -> int:
        raise NotImplementedError

    def read(self, register: str, motor: str, *, normalize: bool = True) -> float | int:
        """Value of one register of one motor (positions normalized unless normalize=False)."""
        addr, size = self._register(register, motor)
        mid = self.motors[motor].id
        replies = self._transaction(self.codec.instruction(mid, READ, self.codec.addr_len(addr, size)), [mid], register)
        raw = self._decode(register, int.from_bytes(replies[mid][1][:size], "little"), size)
        return self._from_raw(register, motor, raw, normalize)

    def write(self, register: str, motor: str, value: float, *, normalize: bool = True) -> None:
        """Write one register of one motor and wait for its acknowledgement."""
        addr, _ = self._register(register, motor)
        mid = self.motors[motor].id
        params = self.codec.addr(addr) + self._word(register, motor, value, normalize)
        self._transaction(self.codec.instruction(mid, WRITE, params), [mid], register)

    def sync_read(
        self, register: str, motors: list[str] | str | None = None, *, normalize: bool = True
    ) -> dict[str, float | int]:
        """One register of several motors (default: all) in one exchange -> {name: value}."""
        names = self._names(motors)
        addr, size = self._register(register, names[0])
        for n in names[1:]:
            if self._register(register, n) != (addr, size):
                raise ValueError(f"register {register!r} is at different addresses on {names}; read them one by one")
        ids = [self.motors[n].id for n in names]
        packet = self.codec.instruction(
            self.codec.BROADCAST_ID, SYNC_READ, self.codec.addr_len(addr, size) + bytes(ids)
        )
        replies = self._transaction(packet, ids, register)
        return {
            n: self._from_raw(
                register, n, self._decode(register, int.from_bytes(replies[i][1][:size], "little"), size), normalize
            )
            for n, i in zip(names, ids)
        }

    def sync_write(self, register: str, values: dict[str, float] | float, *, normalize: bool = True) -> None:
        """Write one register of several motors in one packet (no reply). `values`: {name: value},
        or one value for every motor."""
        if not isinstance(values, dict):
            values = {n: values for n in self.motors}
        names = self._names(list(values))
        addr, size = self._register(register, names[0])
        body = b"".join(bytes([self.motors[n].id]) + self._word(register, n, values[n], normalize) for n in names)
        self._require_connected()
        with self._lock:
            try:
                self._serial.write(
                    self.codec.instruction(self.codec.BROADCAST_ID, SYNC_WRITE, self.codec.addr_len(addr, size) + body)
                )
                self._serial.flush()
            except _PORT_ERRORS as e:
                raise MotorCommunicationError(
                    f"{self.port}: the serial port failed ({e}) while writing {register!r}. Was the USB cable unplugged?",
                    port=self.port,
                    motors=names,
                    register=register,
                    reason="port error",
                ) from None

    def _names(self, motors: list[str] | str | None) -> list[str]:
        names = list(self.motors) if motors is None else [motors] if isinstance(motors, str) else list(motors)
        for n in names:
            if n not in self.motors:
                raise KeyError(f"unknown motor {n!r} on {self.port}; motors: {list(self.motors)}")
        if not names:
            raise ValueError("no motors given")
        return names

    # ------------------------------------------------------------------ torque
    def enable_torque(self, motors: list[str] | str | None = None) -> None:
        for n in self._names(motors):
            self.write("Torque_Enable", n, 1)

    def disable_torque(self, motors: list[str] | str | None = None) -> None:
        for n in self._names(motors):
            self.write("Torque_Enable", n, 0)

    # ------------------------------------------------------------------ calibration on the motors
    def _homing_offset(self, present_without_offset: int) -> int:
        """Offset that makes the current pose read half a turn (protocol-specific sign)."""
        raise NotImplementedError

    def set_half_turn_homings(self, motors: list[str] | None = None) -> dict[str, int]:
        """Write homing offsets so the current pose of each motor reads resolution/2 - 1; returns them."""
        names = self._names(motors)
        for n in names:
            self.write("Homing_Offset", n, 0, normalize=False)
        present = self.sync_read("Present_Position", names, normalize=False)
        offsets = {n: self._homing_offset(present[n]) for n in names}
        for n in names:
            self.write("Homing_Offset", n, offsets[n], normalize=False)
        return offsets

    def record_ranges_of_motion(
        self, motors: list[str] | None = None, *, done: Callable[[], bool], poll_s: float = 0.02
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Track raw min/max positions of `motors` (default all) while someone moves the joints.

        Polls `Present_Position` every `poll_s` seconds until `done()` returns True (e.g. an
        event set when the user presses ENTER); returns (mins, maxes), motor name -> raw ticks.
        """
        names = self._names(motors)
        start = self.sync_read("Present_Position", names, normalize=False)
        mins, maxes = dict(start), dict(start)
        while not done():
            for m, v in self.sync_read("Present_Position", names, normalize=False).items():
                mins[m], maxes[m] = min(mins[m], v), max(maxes[m], v)
            time.sleep(poll_s)
        return mins, maxes

    def write_calibration(self, calibration: dict[str, calib.MotorCalibration]) -> None:
        """Write offsets and limits to the motors (torque must be off) and use this calibration."""
        calib.check_calibration(calibration, self.motors, source=f"bus on {self.port}")
        for n, c in calibration.items():
            self.write("Homing_Offset", n, c.homing_offset, normalize=False)
            self.write("Min_Position_Limit", n, c.range_min, normalize=False)
            self.write("Max_Position_Limit", n, c.range_max, normalize=False)
        self._calibration = calibration

    def read_calibration(self) -> dict[str, calib.MotorCalibration]:
        """The calibration currently stored in the motors' registers."""
        out = {}
        for n, m in self.motors.items():
            out[n] = calib.MotorCalibration(
                id=m.id,
                drive_mode=self._drive_mode(n),
                homing_offset=self.read("Homing_Offset", n, normalize=False),
                range_min=self.read("Min_Position_Limit", n, normalize=False),
                range_max=self.read("Max_Position_Limit", n, normalize=False),
            )
        return out

    def _drive_mode(self, motor: str) -> int:
        return 0

    def motors_match_calibration(self, calibration: dict[str, calib.MotorCalibration]) -> bool:
        """True if the offsets/limits in the motors equal `calibration` (drive mode is software-only)."""
        stored = self.read_calibration()
        return all(
            (stored[n].homing_offset, stored[n].range_min, stored[n].range_max)
            == (c.homing_offset, c.range_min, c.range_max)
            for n, c in calibration.items()
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(port={self.port!r}, motors={list(self.motors)})"
