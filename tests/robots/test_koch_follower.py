"""Koch follower and leader (Dynamixel Protocol 2.0) end to end through the pty servo simulator."""

import math
import time

import pytest

from robotlearn.motors.calibration import calibration_path, load_calibration
from robotlearn.motors.dynamixel import OPERATING_MODES
from robotlearn.motors.sim import ServoSimulator
from robotlearn.robots import RobotNotConnectedError, make_robot
from robotlearn.robots.calibrate import calibrate_device
from robotlearn.robots.koch_follower import KOCH_FOLLOWER_MOTORS, KochFollower, KochFollowerConfig
from robotlearn.teleoperators import make_teleoperator
from robotlearn.teleoperators.koch_leader import KOCH_LEADER_MOTORS


@pytest.fixture
def sims():
    follower = ServoSimulator("dynamixel", {i: model for i, model in KOCH_FOLLOWER_MOTORS.values()}).start()
    leader = ServoSimulator("dynamixel", {i: model for i, model in KOCH_LEADER_MOTORS.values()}).start()
    yield follower, leader
    follower.stop()
    leader.stop()


def sweeping_person(sim, sweep_s=0.4):
    """`ask` for the calibration wizard: ENTER at once for the middle pose; for the range step a
    hand sweeps every joint +-300 ticks for `sweep_s` seconds, then ENTER."""

    def ask(prompt: str) -> str:
        if "Recording" in prompt:  # the range step (the first prompt only asks for the middle pose)
            for servo in sim.servos.values():
                servo.motion = lambda t, i=servo.id: 2048 + 300 * math.sin(60 * t + i)
            time.sleep(sweep_s)
        return ""

    return ask


def test_calibrate_both_arms_then_leader_drives_follower(sims, tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTLEARN_CALIBRATION_DIR", str(tmp_path))
    fsim, lsim = sims
    robot = make_robot("koch_follower", port=fsim.port, id="f")
    leader = make_teleoperator("koch_leader", port=lsim.port, id="l")
    robot.connect(calibrate=False)  # already connected: the wizard leaves it connected
    calibrate_device(robot, ask=sweeping_person(fsim), say=lambda m: None, poll_s=0.005)
    assert robot.is_connected and robot.is_calibrated
    calibrate_device(leader, ask=sweeping_person(lsim), say=lambda m: None, poll_s=0.005)
    assert not leader.is_connected
    assert (
        load_calibration(calibration_path("teleoperators", "koch_leader", "l"))["shoulder_pan"].range_max == 4095
    )  # full turn
    robot.disconnect()
    for servo in fsim.servos.values():
        servo.motion = None

    robot.connect()  # calibration files are found: no prompt
    leader.connect()
    assert fsim.servo(1).register("Operating_Mode") == OPERATING_MODES["extended_position"]
    assert fsim.servo(6).register("Operating_Mode") == OPERATING_MODES["current_position"]
    assert fsim.servo(3).register("Position_P_Gain") == 1500
    assert lsim.servo(6).torque and not lsim.servo(1).torque  # the leader's gripper is a spring-loaded trigger
    action = leader.get_action()
    assert set(action) == set(robot.action_features)
    robot.send_action(action)
    cal = robot.bus.calibration["elbow_flex"]
    v = action["elbow_flex.pos"]
    expected = round(
        min(max(cal.range_min + (v + 100) / 200 * (cal.range_max - cal.range_min), cal.range_min), cal.range_max)
    )
    assert fsim.wait_until(lambda: abs(fsim.servo(3).goal_position - expected) <= 1)
    robot.disconnect()
    leader.disconnect()


def test_koch_before_connect_raises():
    robot = KochFollower(KochFollowerConfig(port="/dev/null"))
    with pytest.raises(RobotNotConnectedError):
        robot.get_observation()
    with pytest.raises(ValueError, match="find-port"):
        KochFollower(KochFollowerConfig()).connect()
