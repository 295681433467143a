"""Scripted teleoperators: the PushT expert solves PushT; the arm leader follows its trajectory."""

import numpy as np
import pytest

from robotlearn.robots import RobotNotConnectedError
from robotlearn.teleoperators import TELEOPERATORS, make_teleoperator
from robotlearn.teleoperators.keyboard import KeyboardTeleop, KeyboardTeleopConfig
from robotlearn.teleoperators.sim_arm_leader import SimArmLeader


@pytest.mark.parametrize("seed", [2, 7])
def test_scripted_expert_pushes_the_t_into_the_goal(seed):
    pytest.importorskip("gym_pusht")
    from robotlearn.robots import make_robot

    robot = make_robot("sim_pusht", seed=seed)
    teleop = make_teleoperator("scripted_pusht", robot=robot)
    robot.connect()
    teleop.connect()
    start = robot.last_info["coverage"]
    for _ in range(300):
        robot.send_action(teleop.get_action())
        if robot.last_info["is_success"]:
            break
    assert robot.last_info["is_success"], f"coverage went from {start:.2f} to {robot.last_info['coverage']:.2f}"
    # once solved, the expert holds still and the block stays in the goal
    for _ in range(5):
        robot.send_action(teleop.get_action())
    assert robot.last_info["coverage"] > 0.9


def test_scripted_expert_can_be_the_state_feedback_expert():
    pytest.importorskip("gym_pusht")
    from robotlearn.envs.pusht_feedback_expert import PushTFeedbackExpert
    from robotlearn.errors import ConfigError
    from robotlearn.robots import make_robot

    robot = make_robot("sim_pusht", seed=6)
    teleop = make_teleoperator("scripted_pusht", robot=robot, expert="feedback")
    robot.connect()
    teleop.connect()
    assert isinstance(teleop.expert, PushTFeedbackExpert) and teleop.expert.cfg.max_target_distance == 30.0
    for _ in range(300):
        action = teleop.get_action()
        agent = robot.env.get_state()[:2]
        assert np.hypot(action["target_x"] - agent[0], action["target_y"] - agent[1]) <= 30.0 + 1e-6
        robot.send_action(action)
        if robot.last_info["is_success"]:
            break
    assert robot.last_info["is_success"]
    with pytest.raises(ConfigError, match="planner, feedback"):
        make_teleoperator("scripted_pusht", robot=robot, expert="feedbak")


def test_scripted_expert_needs_its_robot():
    pytest.importorskip("gym_pusht")
    teleop = TELEOPERATORS.get("scripted_pusht")()
    with pytest.raises(ValueError, match="robot"):
        teleop.connect()
    with pytest.raises(RobotNotConnectedError):
        teleop.get_action()


def test_sim_arm_leader_is_deterministic_and_restarts_on_reset():
    a, b = SimArmLeader(), SimArmLeader()
    a.connect()
    b.connect()
    seq = [a.get_action() for _ in range(5)]
    assert seq == [b.get_action() for _ in range(5)]
    assert len({round(s["shoulder.pos"], 6) for s in seq}) == 5  # it moves
    a.reset()
    assert a.get_action() == seq[0]
    assert max(abs(v) for s in seq for v in s.values()) <= 60.0


def test_keyboard_teleop_moves_by_step_and_clips_to_range():
    t = KeyboardTeleop(KeyboardTeleopConfig(step=100.0, start_x=450.0, start_y=60.0))
    t.connect()  # stdin is no terminal under pytest: no reader, keys come from press()
    assert t.reading_terminal is False
    t.press("right")
    t.press("up")
    t.press("x")  # ignored
    assert t.get_action() == {"target_x": 512.0, "target_y": 0.0}
    t.disconnect()
    with pytest.raises(RobotNotConnectedError):
        t.get_action()
    np.testing.assert_array_equal(t.target, [512.0, 0.0])


@pytest.mark.parametrize("name", TELEOPERATORS.names())
def test_every_registered_teleoperator_config_names_its_type(name):
    assert TELEOPERATORS.config_class(name)().type == name
    assert TELEOPERATORS.get(name).name == name
