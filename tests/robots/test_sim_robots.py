"""The simulated robots behind the Robot interface, and the registry that finds robots by type."""

import numpy as np
import pytest

from robotlearn.errors import ConfigError, UnknownTypeError
from robotlearn.robots import ROBOTS, RobotAlreadyConnectedError, RobotNotConnectedError, SimRobot, make_robot
from robotlearn.robots.sim_arm import SimArm, SimArmConfig


def test_sim_pusht_steps_once_per_action_and_exposes_success():
    pytest.importorskip("gym_pusht")
    from robotlearn.envs.pusht import GOAL_POSE

    robot = make_robot("sim_pusht", seed=0)
    with pytest.raises(RobotNotConnectedError):
        robot.get_observation()
    robot.connect()
    with pytest.raises(RobotAlreadyConnectedError):
        robot.connect()
    obs = robot.get_observation()
    assert set(obs) == {"agent_x", "agent_y", "top"} and obs["top"].shape == (96, 96, 3)
    sent = robot.send_action({"target_x": 600.0, "target_y": 100.25})
    assert sent == {"target_x": 512.0, "target_y": 100.25}  # clipped to the board
    assert robot.env.steps == 1 and set(robot.last_info) == {"reward", "is_success", "coverage"}
    robot.reset_to_state([50.0, 50.0, *GOAL_POSE])
    robot.send_action({"target_x": 50.0, "target_y": 50.0})
    assert robot.last_info["is_success"] is True
    state = robot.get_extra_observation()["observation.environment_state"]
    assert state.dtype == np.float32 and state.shape == (5,)
    robot.disconnect()
    assert not robot.is_connected


def test_sim_pusht_first_episode_uses_the_seed_and_later_episodes_differ():
    pytest.importorskip("gym_pusht")
    from robotlearn.envs.pusht import PushTEnv

    robot = make_robot("sim_pusht", seed=3)
    robot.connect()
    first = robot.get_extra_observation()["observation.environment_state"]
    robot.reset_episode()  # nothing happened yet: same episode
    np.testing.assert_array_equal(robot.get_extra_observation()["observation.environment_state"], first)
    env = PushTEnv(seed=3)
    env.reset()
    np.testing.assert_array_equal(first, env.get_state().astype(np.float32))
    robot.send_action({"target_x": 256.0, "target_y": 256.0})
    robot.reset_episode()
    assert not np.array_equal(robot.get_extra_observation()["observation.environment_state"], first)


def test_sim_arm_moves_at_limited_speed_within_joint_limits_and_renders():
    robot = SimArm(SimArmConfig(fps=10, max_speed_deg_s=100.0, limit_deg=90.0, image_size=48))
    robot.connect()
    sent = robot.send_action({"shoulder.pos": 200.0, "elbow.pos": -5.0, "wrist.pos": 0.0})
    assert sent["shoulder.pos"] == 90.0  # clipped to the limit
    np.testing.assert_allclose(robot.q, [10.0, -5.0, 0.0])  # at most 100 deg/s / 10 Hz per step
    tip = robot.forward_kinematics([90.0, 0.0, 0.0])[-1]
    np.testing.assert_allclose(tip, [0.0, 0.28], atol=1e-12)  # straight arm pointing up: sum of links
    img = robot.get_observation()["top"]
    assert img.shape == (48, 48, 3) and img.dtype == np.uint8 and (img < 250).any()
    with pytest.raises(KeyError, match="wrist.pos"):
        robot.send_action({"shoulder.pos": 0.0, "elbow.pos": 0.0})


def test_sim_arm_reads_its_configured_sim_camera():
    from robotlearn.cameras.sim import decode_frame_index, synthetic_frame

    robot = make_robot("sim_arm", cameras={"wrist": {"type": "sim", "width": 40, "height": 30, "fps": 50}})
    assert robot.observation_features["wrist"] == (30, 40, 3)
    robot.connect()
    frame = robot.get_observation()["wrist"]
    assert frame.shape == (30, 40, 3)
    # the observation is the camera's own frame number k (its index in row 0, its bar in column k)
    np.testing.assert_array_equal(frame, synthetic_frame(decode_frame_index(frame), 30, 40))
    robot.disconnect()
    assert not robot.cameras["wrist"].is_connected


def test_registry_finds_types_and_rejects_unknown_types_and_options():
    assert ROBOTS.get("sim_arm") is SimArm
    with pytest.raises(UnknownTypeError, match="did you mean 'sim_pusht'"):
        ROBOTS.get("sim_pusht2")
    with pytest.raises(
        ConfigError, match=r"robot.port is not an option of robot type 'sim_arm' \(its options: type, id, joints"
    ):
        make_robot("sim_arm", port="/dev/ttyUSB0")
    arm = make_robot("sim_arm", seed=None, image_size=0)  # None is a value like any other
    assert arm.config.image_size == 0 and arm.config.seed is None


@pytest.mark.parametrize("name", ROBOTS.names())
def test_every_registered_robot_config_names_its_type(name):
    assert ROBOTS.config_class(name)().type == name
    assert ROBOTS.get(name).name == name


def test_simulators_are_sim_robots_and_real_arms_are_not():
    assert issubclass(ROBOTS.get("sim_pusht"), SimRobot) and issubclass(ROBOTS.get("sim_arm"), SimRobot)
    assert not issubclass(ROBOTS.get("so100_follower"), SimRobot)
    assert ROBOTS.get("sim_pusht")().can_reset_to_state and not SimArm().can_reset_to_state
