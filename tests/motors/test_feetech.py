"""Feetech STS bus against the pty servo simulator (real pseudo-terminal, real pyserial)."""

import time

import pytest

from robotlearn.motors import (
    FeetechMotorsBus,
    Motor,
    MotorCalibration,
    MotorCommunicationError,
    MotorNormMode,
    MotorNotFoundError,
    MotorsBusNotConnectedError,
    PortNotFoundError,
)
from robotlearn.motors.bus import decode_sign_magnitude, encode_sign_magnitude
from robotlearn.motors.feetech import FeetechCodec
from robotlearn.motors.sim import ServoSimulator

MOTORS = {
    "pan": Motor(1, "sts3215"),
    "lift": Motor(2, "sts3215"),
    "grip": Motor(3, "sts3215", MotorNormMode.RANGE_0_100),
}


@pytest.fixture
def sim():
    with ServoSimulator("feetech", {1: "sts3215", 2: "sts3215", 3: "sts3215"}) as s:
        yield s


@pytest.fixture
def bus(sim):
    b = FeetechMotorsBus(sim.port, MOTORS, timeout_s=0.2, num_retries=2)
    b.connect()
    yield b
    b.disconnect()


def test_packets_match_the_protocol_spec():
    # ping id 1: checksum = ~(1 + 2 + 1) & 0xFF = 0xFB
    assert FeetechCodec.instruction(1, 0x01, b"") == bytes.fromhex("ffff010201fb")
    # read 2 bytes at 56 (Present_Position) from id 1
    assert FeetechCodec.instruction(1, 0x02, bytes([56, 2])) == bytes.fromhex("ffff0104023802be")
    pkt = FeetechCodec.status(1, 0, b"\x00\x08")
    reader = iter(b"\x00\xff" + pkt)  # leading garbage is skipped while syncing on 0xFF 0xFF
    assert FeetechCodec.read_packet(lambda n: bytes(next(reader) for _ in range(n))) == (1, 0, b"\x00\x08")


def test_sign_magnitude_encoding():
    assert encode_sign_magnitude(-5, 15) == 0x8005
    assert decode_sign_magnitude(0x8005, 15) == -5
    assert encode_sign_magnitude(-2047, 11) == 0x0FFF
    assert decode_sign_magnitude(0x0800 | 100, 11) == -100
    with pytest.raises(ValueError, match="exceeds 2047"):
        encode_sign_magnitude(2114, 11)


def test_ping_read_write_round_trip(sim, bus):
    assert bus.ping(1) == 777
    assert bus.ping(9) is None
    bus.write("Homing_Offset", "lift", -300, normalize=False)
    raw = sim.servo(2).mem[31] | sim.servo(2).mem[32] << 8
    assert raw == 0x0800 | 300  # stored sign-magnitude with bit 11
    assert bus.read("Homing_Offset", "lift", normalize=False) == -300
    assert bus.read("Present_Position", "lift", normalize=False) == 2048 + 300  # present = actual - offset
    bus.write("P_Coefficient", "pan", 16)
    assert bus.read("P_Coefficient", "pan") == 16


def test_negative_goal_position_uses_bit_15(sim, bus):
    bus.write("Min_Position_Limit", "pan", 0, normalize=False)
    bus.write("Goal_Position", "pan", -12, normalize=False)
    assert sim.servo(1).mem[42] | sim.servo(1).mem[43] << 8 == 0x8000 | 12
    assert bus.read("Goal_Position", "pan", normalize=False) == -12


def test_sync_read_and_sync_write(sim, bus):
    bus.enable_torque()
    assert sim.servo(1).torque and sim.servo(3).torque
    bus.sync_write("Goal_Position", {"pan": 1000, "lift": 3000, "grip": 2500}, normalize=False)
    assert sim.wait_until(lambda: [sim.servo(i).goal_position for i in (1, 2, 3)] == [1000, 3000, 2500])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and bus.sync_read("Present_Position", normalize=False) != {
        "pan": 1000,
        "lift": 3000,
        "grip": 2500,
    }:
        time.sleep(0.01)
    assert bus.sync_read("Present_Position", normalize=False) == {"pan": 1000, "lift": 3000, "grip": 2500}
    assert bus.sync_read("Present_Position", ["lift"], normalize=False) == {"lift": 3000}


def test_normalized_positions_follow_calibration(sim, bus):
    bus.calibration = {
        "pan": MotorCalibration(1, 0, 0, 1048, 3048),
        "lift": MotorCalibration(2, 0, 0, 1048, 3048),
        "grip": MotorCalibration(3, 0, 0, 2048, 3048),
    }
    assert bus.sync_read("Present_Position") == {"pan": 0.0, "lift": 0.0, "grip": 0.0}
    bus.sync_write("Goal_Position", {"pan": 50.0, "lift": -100.0, "grip": 150.0})
    # -100..100 maps onto the range; goals beyond the range are clipped to it
    assert sim.wait_until(lambda: [sim.servo(i).goal_position for i in (1, 2, 3)] == [2548, 1048, 3048])


def test_checksum_error_is_retried_then_reported(sim, bus):
    sim.corrupt_replies(2)  # two bad replies, third attempt succeeds
    assert bus.read("Present_Position", "pan", normalize=False) == 2048
    sim.corrupt_replies(3)  # all 1 + num_retries attempts fail
    with pytest.raises(MotorCommunicationError, match="checksum error") as info:
        bus.read("Present_Position", "pan", normalize=False)
    assert info.value.port == sim.port and info.value.register == "Present_Position" and info.value.motors == ["pan"]


def test_dropped_replies_time_out_with_motor_and_register(sim, bus):
    sim.drop_replies(1)
    assert bus.sync_read("Present_Position", normalize=False)["grip"] == 2048  # one drop is retried
    sim.drop_replies(100)
    with pytest.raises(MotorCommunicationError, match="timeout") as info:
        bus.read("Present_Position", "lift", normalize=False)
    assert "'lift'" in str(info.value) and info.value.reason == "timeout"


def test_sync_read_names_the_motor_that_went_silent(sim, bus):
    sim.remove(2)
    with pytest.raises(MotorCommunicationError, match=r"motor 'lift' \(id 2\)"):
        bus.sync_read("Present_Position", normalize=False)


def test_missing_motor_at_connect_names_its_id(sim):
    sim.remove(3)
    bus = FeetechMotorsBus(sim.port, MOTORS, timeout_s=0.05, num_retries=1)
    with pytest.raises(MotorNotFoundError, match=r"grip \(id 3\)") as info:
        bus.connect()
    assert sim.port in str(info.value) and not bus.is_connected


def test_wrong_model_at_connect(sim):
    bus = FeetechMotorsBus(sim.port, {"pan": Motor(1, "sts3250")}, timeout_s=0.2)
    with pytest.raises(MotorNotFoundError, match="reports model 777"):
        bus.connect()


def test_wrong_port_suggests_find_port(tmp_path):
    bus = FeetechMotorsBus(str(tmp_path / "ttyACM9"), MOTORS)
    with pytest.raises(PortNotFoundError, match="robotlearn find-port") as info:
        bus.connect()
    assert "ttyACM9" in str(info.value)


def test_use_before_connect_raises(sim):
    bus = FeetechMotorsBus(sim.port, MOTORS)
    with pytest.raises(MotorsBusNotConnectedError, match="connect"):
        bus.read("Present_Position", "pan")


def test_half_turn_homing_centres_the_current_pose(sim, bus):
    sim.servo(1).actual = 3000.0
    sim.servo(2).actual = 100.0
    offsets = bus.set_half_turn_homings(["pan", "lift"])
    assert offsets == {"pan": 3000 - 2047, "lift": 100 - 2047}
    assert bus.sync_read("Present_Position", ["pan", "lift"], normalize=False) == {"pan": 2047, "lift": 2047}


def test_port_vanishing_mid_session_is_reported(sim, bus):
    sim.stop()  # closes the pty: like pulling the USB cable
    with pytest.raises(MotorCommunicationError, match="unplugged") as info:
        bus.read("Present_Position", "pan")
    assert info.value.reason == "port error"
