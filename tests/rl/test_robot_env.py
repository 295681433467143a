"""A robot as an RL task (`--env.type=robot`, here the simulated arm): its features are what
`robotlearn record` stores, a recorded dataset gives the action range and statistics, and the
person at the robot marks success with a key typed into a real pseudo-terminal."""

import os
import pty
import sys
import time

import numpy as np
import pytest

from robotlearn.datasets import LeRobotDataset
from robotlearn.errors import ConfigError
from robotlearn.recording.features import hw_to_dataset_features
from robotlearn.rl.robot_env import RobotEnv, RobotEnvConfig
from robotlearn.robots.sim_arm import SimArm, SimArmConfig


@pytest.fixture
def terminal(monkeypatch):
    from robotlearn.utils.terminal_keys import TerminalKeys

    master, slave = pty.openpty()
    stdin = os.fdopen(slave, "r")
    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.setattr(TerminalKeys, "_instance", None)
    yield master
    stdin.close()
    os.close(master)


def recorded(root, robot: SimArm, actions: list[list[float]]) -> str:
    features = {
        **hw_to_dataset_features(robot.action_features, "action"),
        **hw_to_dataset_features(robot.observation_features, "observation"),
    }
    ds = LeRobotDataset.create("t/arm", fps=10, root=root, features=features)
    for a in actions:
        frame = {"action": np.array(a, np.float32), "observation.state": np.array(a, np.float32), "task": "reach"}
        for key, ft in features.items():
            if ".images." in key:
                frame[key] = np.zeros(ft["shape"], np.uint8)
        ds.add_frame(frame)
    ds.save_episode()
    ds.finalize()
    return str(root)


def test_a_recorded_dataset_gives_the_action_range_and_the_statistics(tmp_path):
    robot = SimArm(SimArmConfig(image_size=32))
    root = recorded(tmp_path / "demo", robot, [[-30, 0, 5], [40, 10, 5], [0, -20, 15]])
    env = RobotEnv(RobotEnvConfig(robot=SimArmConfig(image_size=32), stats_root=root, image_size=16))
    np.testing.assert_allclose(env.action_space.low, [-30, -20, 5])
    np.testing.assert_allclose(env.action_space.high, [40, 10, 15])
    meta = env.dataset_meta()
    np.testing.assert_allclose(meta.stats["observation.state"]["mean"], [10 / 3, -10 / 3, 25 / 3], rtol=1e-5)
    assert meta.features["observation.images.top"]["shape"] == (16, 16, 3)  # recorded at 32, resized
    obs, _ = env.reset()
    assert obs["observation.images.top"].shape == (16, 16, 3) and obs["observation.images.top"].dtype == np.uint8
    env.close()
    other = tmp_path / "other"
    recorded(other, SimArm(SimArmConfig(joints=("a", "b", "c"), image_size=0)), [[0, 0, 0]])
    with pytest.raises(ConfigError, match="record the dataset with this robot"):
        RobotEnv(RobotEnvConfig(robot=SimArmConfig(image_size=0), stats_root=str(other)))


def test_the_success_key_gives_reward_1_and_ends_the_episode(terminal):
    env = RobotEnv(RobotEnvConfig(robot=SimArmConfig(image_size=0), fps=100, success_key="y"), max_steps=50)
    try:
        env.reset()
        assert env.step([0, 0, 0])[1:4] == (0.0, False, False)
        os.write(terminal, b"y")
        deadline = time.monotonic() + 10
        while not env._success.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
        obs, reward, terminated, truncated, info = env.step([0, 0, 0])
        assert (reward, terminated, info["is_success"]) == (1.0, True, True)
        assert env.step([0, 0, 0])[1] == 0.0  # once per press
    finally:
        env.close()
