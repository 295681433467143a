"""ROBOTIS Dynamixel X-series servos (XL330, XL430 on Koch arms), Protocol 2.0.

Packets:

    instruction: 0xFF 0xFF 0xFD 0x00 | ID | LEN_L LEN_H | INSTR | PARAMS... | CRC_L CRC_H
    status:      0xFF 0xFF 0xFD 0x00 | ID | LEN_L LEN_H | 0x55 | ERROR | PARAMS... | CRC_L CRC_H
    LEN = bytes after the LEN field (instruction/status byte, params, 2 CRC bytes), after stuffing.

CRC is CRC-16 with polynomial 0x8005 (initial value 0, no reflection) over everything before it.
Byte stuffing: wherever 0xFF 0xFF 0xFD appears in the instruction..params field, a 0xFD is
inserted after it so the header can never appear inside a packet. Addresses and lengths in
parameters are 2 bytes, values little-endian, signed values two's complement.
PING replies with model number (2 bytes) and firmware version. The servo reports
Present_Position = actual position + Homing_Offset. EEPROM registers (address < 64) can only be
written with torque off; otherwise the servo answers with an "access error".
"""

from __future__ import annotations

from robotlearn.motors.bus import ChecksumError, Codec, MotorsBus, logger
from robotlearn.motors.motor import MotorStatusError

HEADER = b"\xff\xff\xfd\x00"
STATUS = 0x55

X_SERIES_CONTROL_TABLE: dict[str, tuple[int, int]] = {
    # EEPROM (write with torque off)
    "Model_Number": (0, 2),
    "Model_Information": (2, 4),
    "Firmware_Version": (6, 1),
    "ID": (7, 1),
    "Baud_Rate": (8, 1),
    "Return_Delay_Time": (9, 1),
    "Drive_Mode": (10, 1),
    "Operating_Mode": (11, 1),
    "Secondary_ID": (12, 1),
    "Protocol_Type": (13, 1),
    "Homing_Offset": (20, 4),
    "Moving_Threshold": (24, 4),
    "Temperature_Limit": (31, 1),
    "Max_Voltage_Limit": (32, 2),
    "Min_Voltage_Limit": (34, 2),
    "PWM_Limit": (36, 2),
    "Velocity_Limit": (44, 4),
    "Max_Position_Limit": (48, 4),
    "Min_Position_Limit": (52, 4),
    "Shutdown": (63, 1),
    # RAM
    "Torque_Enable": (64, 1),
    "LED": (65, 1),
    "Status_Return_Level": (68, 1),
    "Registered_Instruction": (69, 1),
    "Hardware_Error_Status": (70, 1),
    "Velocity_I_Gain": (76, 2),
    "Velocity_P_Gain": (78, 2),
    "Position_D_Gain": (80, 2),
    "Position_I_Gain": (82, 2),
    "Position_P_Gain": (84, 2),
    "Feedforward_2nd_Gain": (88, 2),
    "Feedforward_1st_Gain": (90, 2),
    "Bus_Watchdog": (98, 1),
    "Goal_PWM": (100, 2),
    "Goal_Velocity": (104, 4),
    "Profile_Acceleration": (108, 4),
    "Profile_Velocity": (112, 4),
    "Goal_Position": (116, 4),
    "Realtime_Tick": (120, 2),
    "Moving": (122, 1),
    "Moving_Status": (123, 1),
    "Present_PWM": (124, 2),
    "Present_Velocity": (128, 4),
    "Present_Position": (132, 4),
    "Velocity_Trajectory": (136, 4),
    "Position_Trajectory": (140, 4),
    "Present_Input_Voltage": (144, 2),
    "Present_Temperature": (146, 1),
}
# XL330 has current control; XL430 reports load at the same address instead.
XL330_CONTROL_TABLE = {
    **X_SERIES_CONTROL_TABLE,
    "Current_Limit": (38, 2),
    "Goal_Current": (102, 2),
    "Present_Current": (126, 2),
}
XL430_CONTROL_TABLE = {**X_SERIES_CONTROL_TABLE, "Present_Load": (126, 2)}

MODEL_NUMBERS = {"xl330-m077": 1190, "xl330-m288": 1200, "xl430-w250": 1060, "xm430-w350": 1020}
CONTROL_TABLES = {
    "xl330-m077": XL330_CONTROL_TABLE,
    "xl330-m288": XL330_CONTROL_TABLE,
    "xl430-w250": XL430_CONTROL_TABLE,
    "xm430-w350": XL330_CONTROL_TABLE,
}
SIGNED_REGISTERS = {
    "Homing_Offset", "Goal_PWM", "Goal_Current", "Goal_Velocity", "Goal_Position",
    "Present_PWM", "Present_Current", "Present_Load", "Present_Velocity", "Present_Position",
    "Velocity_Trajectory", "Position_Trajectory",
}  # fmt: skip
STATUS_ERRORS = {
    1: "result fail",
    2: "instruction error",
    3: "CRC error",
    4: "data range error",
    5: "data length error",
    6: "data limit error",
    7: "access error (EEPROM write with torque on?)",
}
OPERATING_MODES = {"current": 0, "velocity": 1, "position": 3, "extended_position": 4, "current_position": 5, "pwm": 16}


def _make_crc_table() -> list[int]:
    table = []
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = (crc << 1) ^ 0x8005 if crc & 0x8000 else crc << 1
        table.append(crc & 0xFFFF)
    return table


_CRC_TABLE = _make_crc_table()


def crc16(data: bytes) -> int:
    """CRC-16 (poly 0x8005, init 0, MSB first) as specified for Dynamixel Protocol 2.0."""
    crc = 0
    for b in data:
        crc = ((crc << 8) ^ _CRC_TABLE[((crc >> 8) ^ b) & 0xFF]) & 0xFFFF
    return crc


def stuff(data: bytes) -> bytes:
    """Insert 0xFD after every 0xFF 0xFF 0xFD in the instruction..params field."""
    out = bytearray()
    for b in data:
        out.append(b)
        if out[-3:] == b"\xff\xff\xfd":
            out.append(0xFD)
    return bytes(out)


def unstuff(data: bytes) -> bytes:
    out = bytearray()
    skip_next_fd = False
    for b in data:
        if skip_next_fd:
            skip_next_fd = False
            if b == 0xFD:
                continue
        out.append(b)
        if out[-3:] == b"\xff\xff\xfd":
            skip_next_fd = True
    return bytes(out)


class DynamixelCodec(Codec):
    """Dynamixel Protocol 2.0 framing."""

    name = "dynamixel"
    FIELD_BYTES = 2

    @staticmethod
    def instruction(motor_id: int, instr: int, params: bytes) -> bytes:
        body = stuff(bytes([instr]) + bytes(params))
        packet = HEADER + bytes([motor_id]) + (len(body) + 2).to_bytes(2, "little") + body
        return packet + crc16(packet).to_bytes(2, "little")

    @classmethod
    def status(cls, motor_id: int, error: int, params: bytes) -> bytes:
        return cls.instruction(motor_id, STATUS, bytes([error]) + bytes(params))

    @staticmethod
    def read_packet(read) -> tuple[int, int, bytes]:
        window = b""
        while window != HEADER:
            window = (window + read(1))[-4:]
        motor_id = read(1)[0]
        length_bytes = read(2)
        length = int.from_bytes(length_bytes, "little")
        if length < 3:
            raise ChecksumError(f"invalid length {length}")
        rest = read(length)
        if crc16(HEADER + bytes([motor_id]) + length_bytes + rest[:-2]) != int.from_bytes(rest[-2:], "little"):
            raise ChecksumError(f"CRC mismatch from id {motor_id}")
        body = unstuff(rest[:-2])
        return motor_id, body[0], body[1:]

    @staticmethod
    def split_status(code: int, params: bytes) -> tuple[int, bytes] | None:
        if code != STATUS or not params:
            return None
        return params[0], params[1:]


class DynamixelMotorsBus(MotorsBus):
    """Bus of Dynamixel X-series servos. See `MotorsBus` for the API."""

    codec = DynamixelCodec
    control_tables = CONTROL_TABLES
    model_numbers = MODEL_NUMBERS
    default_baudrate = 1_000_000

    def _encode(self, register: str, value: int, size: int) -> int:
        if register in SIGNED_REGISTERS:
            half = 1 << (8 * size - 1)
            if not -half <= value < half:
                raise ValueError(f"{value} is outside the signed {size}-byte range")
            return value % (1 << (8 * size))
        return value

    def _decode(self, register: str, raw: int, size: int) -> int:
        if register in SIGNED_REGISTERS and raw >= 1 << (8 * size - 1):
            return raw - (1 << (8 * size))
        return raw

    def _model_from_ping(self, motor_id: int, data: bytes) -> int:
        return int.from_bytes(data[:2], "little")

    def _handle_status_error(self, name: str, motor_id: int, error: int, register: str) -> None:
        if error & 0x7F:
            what = STATUS_ERRORS.get(error & 0x7F, f"error {error & 0x7F}")
            raise MotorStatusError(f"{self.port}: motor {name!r} (id {motor_id}) refused {register!r}: {what}")
        if error & 0x80 and (motor_id, error) not in self._warned:
            self._warned.add((motor_id, error))
            logger.warning(
                "%s: motor %r (id %d) raised a hardware alert; read Hardware_Error_Status and power-cycle it",
                self.port,
                name,
                motor_id,
            )

    def _homing_offset(self, present_without_offset: int) -> int:
        # Present = actual + offset; make the current pose read 2047.
        return self.resolution // 2 - 1 - present_without_offset

    def set_operating_mode(self, mode: str, motors=None) -> None:
        """Operating mode by name (see OPERATING_MODES); torque must be off."""
        for n in self._names(motors):
            self.write("Operating_Mode", n, OPERATING_MODES[mode])
