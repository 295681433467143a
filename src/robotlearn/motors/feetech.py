"""Feetech STS/SMS serial servos (STS3215 on SO-100/SO-101 arms), protocol 0, little-endian.

Packet (instruction and status share the frame):

    0xFF 0xFF | ID | LEN | INSTR or ERROR | PARAMS... | CHECKSUM
    LEN = len(PARAMS) + 2,  CHECKSUM = ~(ID + LEN + INSTR + sum(PARAMS)) & 0xFF

READ params: address, length. WRITE: address, data. SYNC_READ (ID 0xFE): address, length, IDs;
each motor then answers with its own status packet, in ID order. SYNC_WRITE (ID 0xFE): address,
length, then (ID, data) per motor; no reply. PING has no params and its reply carries none, so
the model number is read from register 3.

Signed registers use sign-magnitude: bit 15 for goal/present position and velocities, bit 11 for
Homing_Offset (so an offset's magnitude is at most 2047 ticks). The servo reports
Present_Position = actual encoder position - Homing_Offset.
"""

from __future__ import annotations

from robotlearn.motors.bus import ChecksumError, Codec, MotorsBus, decode_sign_magnitude, encode_sign_magnitude, logger

# register -> (address, size in bytes), STS/SMS series memory table
STS_CONTROL_TABLE: dict[str, tuple[int, int]] = {
    # EEPROM (persistent)
    "Firmware_Major_Version": (0, 1),
    "Firmware_Minor_Version": (1, 1),
    "Model_Number": (3, 2),
    "ID": (5, 1),
    "Baud_Rate": (6, 1),
    "Return_Delay_Time": (7, 1),
    "Response_Status_Level": (8, 1),
    "Min_Position_Limit": (9, 2),
    "Max_Position_Limit": (11, 2),
    "Max_Temperature_Limit": (13, 1),
    "Max_Voltage_Limit": (14, 1),
    "Min_Voltage_Limit": (15, 1),
    "Max_Torque_Limit": (16, 2),
    "Phase": (18, 1),
    "Unloading_Condition": (19, 1),
    "LED_Alarm_Condition": (20, 1),
    "P_Coefficient": (21, 1),
    "D_Coefficient": (22, 1),
    "I_Coefficient": (23, 1),
    "Minimum_Startup_Force": (24, 2),
    "CW_Dead_Zone": (26, 1),
    "CCW_Dead_Zone": (27, 1),
    "Protection_Current": (28, 2),
    "Angular_Resolution": (30, 1),
    "Homing_Offset": (31, 2),
    "Operating_Mode": (33, 1),
    "Protective_Torque": (34, 1),
    "Protection_Time": (35, 1),
    "Overload_Torque": (36, 1),
    "Velocity_closed_loop_P_proportional_coefficient": (37, 1),
    "Over_Current_Protection_Time": (38, 1),
    "Velocity_closed_loop_I_integral_coefficient": (39, 1),
    # SRAM
    "Torque_Enable": (40, 1),
    "Acceleration": (41, 1),
    "Goal_Position": (42, 2),
    "Goal_Time": (44, 2),
    "Goal_Velocity": (46, 2),
    "Torque_Limit": (48, 2),
    "Lock": (55, 1),
    "Present_Position": (56, 2),
    "Present_Velocity": (58, 2),
    "Present_Load": (60, 2),
    "Present_Voltage": (62, 1),
    "Present_Temperature": (63, 1),
    "Status": (65, 1),
    "Moving": (66, 1),
    "Present_Current": (69, 2),
    "Maximum_Acceleration": (85, 2),
}

SIGN_BITS = {
    "Homing_Offset": 11,
    "Goal_Position": 15,
    "Present_Position": 15,
    "Goal_Velocity": 15,
    "Present_Velocity": 15,
}
MODEL_NUMBERS = {"sts3215": 777, "sts3250": 2825}
ERROR_FLAGS = {0: "input voltage", 1: "angle sensor", 2: "overheat", 3: "overcurrent", 5: "overload"}


class FeetechCodec(Codec):
    """Feetech SCS/STS protocol 0 framing."""

    name = "feetech"
    FIELD_BYTES = 1

    @staticmethod
    def checksum(body: bytes) -> int:
        """`body` = ID, LEN, INSTR/ERROR, PARAMS."""
        return ~sum(body) & 0xFF

    @classmethod
    def instruction(cls, motor_id: int, instr: int, params: bytes) -> bytes:
        body = bytes([motor_id, len(params) + 2, instr]) + bytes(params)
        return b"\xff\xff" + body + bytes([cls.checksum(body)])

    @classmethod
    def status(cls, motor_id: int, error: int, params: bytes) -> bytes:
        return cls.instruction(motor_id, error, params)

    @classmethod
    def read_packet(cls, read) -> tuple[int, int, bytes]:
        # Sync on 0xFF 0xFF; an ID byte of 0xFF would be a third header byte, so skip it.
        seen = 0
        while True:
            b = read(1)[0]
            if b == 0xFF:
                seen += 1
                continue
            if seen >= 2:
                motor_id = b
                break
            seen = 0
        length = read(1)[0]
        if length < 2:
            raise ChecksumError(f"invalid length {length}")
        rest = read(length)
        body = bytes([motor_id, length]) + rest[:-1]
        if cls.checksum(body) != rest[-1]:
            raise ChecksumError(f"checksum mismatch from id {motor_id}")
        return motor_id, rest[0], rest[1:-1]

    @staticmethod
    def split_status(code: int, params: bytes) -> tuple[int, bytes] | None:
        return code, params


class FeetechMotorsBus(MotorsBus):
    """Bus of Feetech STS servos. See `MotorsBus` for the API."""

    codec = FeetechCodec
    control_tables = {model: STS_CONTROL_TABLE for model in MODEL_NUMBERS}
    model_numbers = MODEL_NUMBERS
    default_baudrate = 1_000_000

    def _encode(self, register: str, value: int, size: int) -> int:
        return encode_sign_magnitude(value, SIGN_BITS[register]) if register in SIGN_BITS else value

    def _decode(self, register: str, raw: int, size: int) -> int:
        return decode_sign_magnitude(raw, SIGN_BITS[register]) if register in SIGN_BITS else raw

    def _model_from_ping(self, motor_id: int, data: bytes) -> int:
        addr, size = STS_CONTROL_TABLE["Model_Number"]
        replies = self._transaction(
            self.codec.instruction(motor_id, 0x02, self.codec.addr_len(addr, size)), [motor_id], "Model_Number"
        )
        return int.from_bytes(replies[motor_id][1][:size], "little")

    def _handle_status_error(self, name: str, motor_id: int, error: int, register: str) -> None:
        if error and (motor_id, error) not in self._warned:
            flags = [label for bit, label in ERROR_FLAGS.items() if error >> bit & 1]
            self._warned.add((motor_id, error))
            logger.warning(
                "%s: motor %r (id %d) reports %s (status 0x%02x)",
                self.port,
                name,
                motor_id,
                ", ".join(flags) or "an error",
                error,
            )

    def enable_torque(self, motors=None) -> None:
        # Lock=1 also protects the EEPROM from accidental writes while the arm runs.
        for n in self._names(motors):
            self.write("Torque_Enable", n, 1)
            self.write("Lock", n, 1)

    def disable_torque(self, motors=None) -> None:
        for n in self._names(motors):
            self.write("Torque_Enable", n, 0)
            self.write("Lock", n, 0)

    def _homing_offset(self, present_without_offset: int) -> int:
        # Present = actual - offset; we want the current pose to read 2047. The offset's
        # magnitude is limited to 2047 (sign bit 11): a pose at raw 4095 would need 2048, so
        # clamp it (that joint's middle then reads 2048, one tick off, which is harmless).
        half_turn = self.resolution // 2 - 1
        return max(-2047, min(2047, present_without_offset - half_turn))
