"""Dynamixel Protocol 2.0 bus against the pty servo simulator."""

import pytest

from robotlearn.motors import DynamixelMotorsBus, Motor, MotorCommunicationError, MotorNotFoundError, MotorStatusError
from robotlearn.motors.dynamixel import DynamixelCodec, crc16, stuff, unstuff
from robotlearn.motors.sim import ServoSimulator

MOTORS = {"shoulder": Motor(1, "xl430-w250"), "elbow": Motor(2, "xl330-m288"), "gripper": Motor(3, "xl330-m288")}


@pytest.fixture
def sim():
    with ServoSimulator("dynamixel", {1: "xl430-w250", 2: "xl330-m288", 3: "xl330-m288"}) as s:
        yield s


@pytest.fixture
def bus(sim):
    b = DynamixelMotorsBus(sim.port, MOTORS, timeout_s=0.2, num_retries=2)
    b.connect()
    yield b
    b.disconnect()


def test_packets_match_the_robotis_manual_examples():
    assert crc16(b"123456789") == 0xFEE8  # CRC-16/BUYPASS check value
    assert DynamixelCodec.instruction(1, 0x01, b"") == bytes.fromhex("fffffd00010300 01 194e".replace(" ", ""))
    read_present_position = DynamixelCodec.instruction(1, 0x02, DynamixelCodec.addr_len(132, 4))
    assert read_present_position == bytes.fromhex("fffffd0001070002840004001d15")
    ping_status = bytes.fromhex("fffffd0001070055000604266 55d".replace(" ", ""))
    reader = iter(b"\x12\xff" + ping_status)
    assert DynamixelCodec.read_packet(lambda n: bytes(next(reader) for _ in range(n))) == (
        1,
        0x55,
        bytes([0, 6, 4, 0x26]),
    )


def test_byte_stuffing_round_trip():
    data = bytes([0x03, 0xFF, 0xFF, 0xFD, 0x01])
    assert stuff(data) == bytes([0x03, 0xFF, 0xFF, 0xFD, 0xFD, 0x01])
    assert unstuff(stuff(data)) == data
    # a value containing the header pattern survives a full packet round trip
    pkt = DynamixelCodec.instruction(7, 0x03, bytes([116, 0, 0xFF, 0xFF, 0xFD, 0x00]))
    it = iter(pkt)
    assert DynamixelCodec.read_packet(lambda n: bytes(next(it) for _ in range(n))) == (
        7,
        0x03,
        bytes([116, 0, 0xFF, 0xFF, 0xFD, 0x00]),
    )


def test_ping_reports_model_numbers(bus):
    assert bus.ping(1) == 1060 and bus.ping(2) == 1200
    assert bus.ping(42) is None


def test_read_write_signed_four_byte_values(sim, bus):
    bus.write("Homing_Offset", "elbow", -1000, normalize=False)
    assert bytes(sim.servo(2).mem[20:24]) == (-1000 % 2**32).to_bytes(4, "little")  # two's complement
    assert bus.read("Homing_Offset", "elbow", normalize=False) == -1000
    assert bus.read("Present_Position", "elbow", normalize=False) == 2048 - 1000  # present = actual + offset


def test_sync_read_and_sync_write(sim, bus):
    bus.set_operating_mode("extended_position")
    bus.enable_torque()
    bus.sync_write("Goal_Position", {"shoulder": -500, "elbow": 5000, "gripper": 1234}, normalize=False)
    assert sim.wait_until(lambda: [sim.servo(i).goal_position for i in (1, 2, 3)] == [-500, 5000, 1234])
    assert sim.wait_until(
        lambda: bus.sync_read("Present_Position", normalize=False) == {"shoulder": -500, "elbow": 5000, "gripper": 1234}
    )


def test_eeprom_write_with_torque_on_is_refused(bus):
    bus.enable_torque(["elbow"])
    with pytest.raises(MotorStatusError, match="access error"):
        bus.write("Operating_Mode", "elbow", 4)
    bus.disable_torque(["elbow"])
    bus.write("Operating_Mode", "elbow", 4)
    assert bus.read("Operating_Mode", "elbow") == 4


def test_crc_error_is_retried_then_reported(sim, bus):
    sim.corrupt_replies(1)
    assert bus.read("Present_Position", "gripper", normalize=False) == 2048
    sim.corrupt_replies(50)
    with pytest.raises(MotorCommunicationError, match="checksum error.*'gripper'"):
        bus.read("Present_Position", "gripper", normalize=False)


def test_timeout_and_missing_motor(sim, bus):
    sim.drop_replies(50)
    with pytest.raises(MotorCommunicationError, match="timeout"):
        bus.sync_read("Present_Position")
    sim.drop_replies(0)
    bus.disconnect()
    sim.remove(1)
    with pytest.raises(MotorNotFoundError, match=r"shoulder \(id 1\)"):
        DynamixelMotorsBus(sim.port, MOTORS, timeout_s=0.05, num_retries=0).connect()
