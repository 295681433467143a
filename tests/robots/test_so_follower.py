"""SO-100/SO-101 follower and leader end to end through the pty servo simulator.

Each arm gets its own simulated bus of six STS3215 servos; nothing is mocked between the robot
classes and the pseudo-terminal.
"""

import math
import time

import numpy as np
import pytest

from robotlearn.errors import CalibrationError
from robotlearn.motors import (
    MotorCalibration,
    MotorNotFoundError,
    PortNotFoundError,
    load_calibration,
    save_calibration,
)
from robotlearn.motors.calibration import calibration_path
from robotlearn.motors.sim import ServoSimulator
from robotlearn.robots import RobotNotConnectedError, make_robot
from robotlearn.robots.calibrate import calibrate_device
from robotlearn.robots.so100_follower import SO100Follower, SO100FollowerConfig
from robotlearn.robots.so101_follower import SO101Follower, SO101FollowerConfig
from robotlearn.teleoperators import make_teleoperator
from robotlearn.teleoperators.so100_leader import SO100Leader, SO100LeaderConfig
from robotlearn.teleoperators.so101_leader import SO101Leader

JOINTS = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]


def calibration(lo: int, hi: int) -> dict[str, MotorCalibration]:
    return {name: MotorCalibration(i + 1, 0, 0, lo, hi) for i, name in enumerate(JOINTS)}


@pytest.fixture
def follower_sim():
    with ServoSimulator("feetech", {i: "sts3215" for i in range(1, 7)}) as sim:
        yield sim


@pytest.fixture
def leader_sim():
    with ServoSimulator("feetech", {i: "sts3215" for i in range(1, 7)}) as sim:
        for i in range(1, 7):  # a hand moving every joint of the leader
            sim.servo(i).motion = lambda t, i=i: 2048 + 500 * math.sin(3 * t + i)
        yield sim


@pytest.fixture
def cal_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTLEARN_CALIBRATION_DIR", str(tmp_path))
    return tmp_path


def test_use_before_connect_raises(follower_sim):
    robot = SO100Follower(SO100FollowerConfig(port=follower_sim.port, id="arm"))
    with pytest.raises(RobotNotConnectedError, match="connect"):
        robot.get_observation()
    with pytest.raises(RobotNotConnectedError):
        robot.send_action({"gripper.pos": 10.0})
    with pytest.raises(RobotNotConnectedError):
        robot.disconnect()
    with pytest.raises(RobotNotConnectedError, match="connect"):
        SO100Leader(SO100LeaderConfig(port=follower_sim.port)).get_action()


def test_features_name_every_joint_and_camera():
    robot = make_robot(
        "so101_follower",
        port="/dev/null",
        cameras={"front": {"type": "opencv", "index_or_path": 0, "width": 64, "height": 48}},
    )
    assert isinstance(robot, SO101Follower)
    assert robot.action_features == {f"{j}.pos": float for j in JOINTS}
    assert robot.observation_features == {**{f"{j}.pos": float for j in JOINTS}, "front": (48, 64, 3)}
    leader = make_teleoperator("so101_leader", port="/dev/null", id="l1")
    assert isinstance(leader, SO101Leader) and leader.action_features == robot.action_features
    assert leader.calibration_fpath.parts[-3:] == ("teleoperators", "so101_leader", "l1.json")


def test_leader_positions_drive_follower_goals(cal_dir, follower_sim, leader_sim):
    # Same pose -> same normalized value, although the two arms' raw ranges differ.
    save_calibration(calibration_path("robots", "so100_follower", "f"), calibration(1048, 3048))
    save_calibration(calibration_path("teleoperators", "so100_leader", "l"), calibration(1548, 2548))
    robot = SO100Follower(SO100FollowerConfig(port=follower_sim.port, id="f"))
    leader = SO100Leader(SO100LeaderConfig(port=leader_sim.port, id="l"))
    robot.connect()
    leader.connect()
    assert all(follower_sim.servo(i).torque for i in range(1, 7)) and not any(
        leader_sim.servo(i).torque for i in range(1, 7)
    )
    for _ in range(5):
        action = leader.get_action()
        sent = robot.send_action(action)
        assert sent == action
    raw_leader = {j: leader.bus.read("Present_Position", j, normalize=False) for j in JOINTS}
    action = leader.get_action()
    robot.send_action(action)
    for i, j in enumerate(JOINTS, start=1):
        value = action[f"{j}.pos"]
        expected = round(1048 + (value + 100) / 200 * 2000) if j != "gripper" else round(1048 + value / 100 * 2000)
        assert follower_sim.wait_until(
            lambda i=i, expected=expected: abs(follower_sim.servo(i).goal_position - expected) <= 1
        ), j
    # the leader sweeps +-500 ticks around the middle of its 1000-tick range: the whole range
    assert any(abs(v - 2048) > 100 for v in raw_leader.values())
    obs = robot.get_observation()
    assert set(obs) == {f"{j}.pos" for j in JOINTS} and all(isinstance(v, float) for v in obs.values())
    robot.disconnect()
    leader.disconnect()
    assert not any(follower_sim.servo(i).torque for i in range(1, 7))  # torque off on disconnect


def test_max_relative_target_clips_each_goal(cal_dir, follower_sim):
    save_calibration(calibration_path("robots", "so100_follower", "f"), calibration(1048, 3048))
    robot = SO100Follower(SO100FollowerConfig(port=follower_sim.port, id="f", max_relative_target=10.0))
    robot.connect()
    assert robot.get_observation()["elbow_flex.pos"] == 0.0  # raw 2048 is mid-range
    sent = robot.send_action({"elbow_flex.pos": 80.0, "wrist_flex.pos": -5.0})
    assert sent == {"elbow_flex.pos": 10.0, "wrist_flex.pos": -5.0}
    assert follower_sim.wait_until(lambda: follower_sim.servo(3).goal_position == 2148)
    with pytest.raises(KeyError, match="unknown action key 'elbow'"):
        robot.send_action({"elbow": 1.0})
    robot.disconnect()


def sweeping_person(sim, amplitude=400, sweep_s=0.4):
    """`ask` for the calibration wizard: ENTER at once for the middle pose; for the range step, a
    hand sweeps every joint +-`amplitude` ticks for `sweep_s` seconds, then ENTER."""
    prompts = []

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        if "Recording" in prompt:  # the range step (the first prompt only asks for the middle pose)
            for i in sim.servos:
                sim.servo(i).motion = lambda t, i=i: 2048 + amplitude * math.sin(50 * t + i)
            time.sleep(sweep_s)
        return ""

    ask.prompts = prompts
    return ask


def test_connect_without_calibration_names_the_calibrate_command_and_never_prompts(cal_dir, follower_sim, monkeypatch):
    monkeypatch.setattr("builtins.input", lambda *a: pytest.fail("connect() prompted"))
    robot = SO101Follower(SO101FollowerConfig(port=follower_sim.port, id="mine"))
    command = f"robotlearn calibrate --robot.type=so101_follower --robot.port={follower_sim.port} --robot.id=mine"
    with pytest.raises(CalibrationError, match=command):
        robot.connect()
    assert not robot.is_connected and not robot.bus.is_connected
    leader = SO100Leader(SO100LeaderConfig(port=follower_sim.port, id="l"))
    with pytest.raises(CalibrationError, match="robotlearn calibrate --teleop.type=so100_leader"):
        leader.connect()


def test_calibrate_saves_file_and_reconnect_restores_motors(cal_dir, follower_sim):
    robot = SO101Follower(SO101FollowerConfig(port=follower_sim.port, id="mine"))
    ask, said = sweeping_person(follower_sim), []
    path = calibrate_device(robot, ask=ask, say=said.append, poll_s=0.005)
    assert path == cal_dir / "robots" / "so101_follower" / "mine.json"
    assert "middle" in ask.prompts[0] and "except ['wrist_roll']" in ask.prompts[1]
    assert said[-1] == f"Calibration saved to {path}"
    assert not robot.is_connected  # the wizard connected it, so it disconnects it again
    saved = load_calibration(path)
    assert saved["wrist_roll"].range_min == 0 and saved["wrist_roll"].range_max == 4095  # full-turn joint
    assert 1647 - 2 <= saved["elbow_flex"].range_min < 2000 < saved["elbow_flex"].range_max <= 2447 + 2  # 2047 +- 400

    for i in range(1, 7):  # wipe the motors' EEPROM calibration (e.g. the arm was used elsewhere)
        follower_sim.servo(i).motion = None
        follower_sim.servo(i).write(31, b"\x00\x00")
    robot = SO101Follower(SO101FollowerConfig(port=follower_sim.port, id="mine"))
    robot.connect()  # no prompt: the file is found and written back
    assert robot.is_calibrated
    assert follower_sim.servo(3).register("Homing_Offset") == saved["elbow_flex"].homing_offset
    assert follower_sim.servo(3).register("Min_Position_Limit") == saved["elbow_flex"].range_min
    robot.disconnect()


def test_calibration_fails_when_a_joint_never_moves(cal_dir, follower_sim):
    robot = SO100Follower(SO100FollowerConfig(port=follower_sim.port, id="still"))
    with pytest.raises(CalibrationError, match="did not move"):
        calibrate_device(robot, ask=lambda prompt: "", say=lambda msg: None, poll_s=0.005)
    assert not robot.is_connected and not robot.calibration_fpath.exists()


def test_connect_errors_name_port_and_missing_motor(cal_dir, follower_sim, tmp_path):
    with pytest.raises(PortNotFoundError, match="find-port"):
        SO100Follower(SO100FollowerConfig(port=str(tmp_path / "ttyUSB7"))).connect()
    follower_sim.remove(4)
    robot = SO100Follower(SO100FollowerConfig(port=follower_sim.port))
    robot.bus.timeout_s = 0.05
    with pytest.raises(MotorNotFoundError, match=r"wrist_flex \(id 4\)"):
        robot.connect()
    assert not robot.is_connected


def test_follower_with_a_camera(cal_dir, follower_sim, tmp_path):
    cv2 = pytest.importorskip("cv2")
    video = tmp_path / "cam.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30, (32, 24))
    for _ in range(30):
        writer.write(np.full((24, 32, 3), 90, np.uint8))
    writer.release()
    save_calibration(calibration_path("robots", "so100_follower", None), calibration(1048, 3048))
    robot = make_robot(
        "so100_follower",
        port=follower_sim.port,
        cameras={"wrist": {"type": "opencv", "index_or_path": str(video), "width": 32, "height": 24, "warmup_s": 0}},
    )
    robot.connect()
    obs = robot.get_observation()
    assert obs["wrist"].shape == (24, 32, 3) == robot.observation_features["wrist"] and obs["wrist"].dtype == np.uint8
    robot.disconnect()
    assert not robot.cameras["wrist"].is_connected
