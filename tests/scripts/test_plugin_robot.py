"""A third-party robot plugs in through an entry point: a throwaway package, installed with pip into
a temporary directory, registers a toy arm and its teleoperator; `check_robot` passes on it, its
options show in `robotlearn record --help`, and `robotlearn record` records three episodes with it."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

PLUGIN = textwrap.dedent('''
    """A toy 2-joint arm that moves a fraction `gain` of the way to each commanded position."""

    import math
    from dataclasses import dataclass

    from robotlearn.errors import DeviceAlreadyConnectedError, DeviceNotConnectedError
    from robotlearn.robots import Robot, RobotConfig
    from robotlearn.teleoperators import Teleoperator, TeleoperatorConfig

    JOINTS = ("shoulder", "elbow")


    @dataclass
    class ToyArmConfig(RobotConfig):
        type: str = "toy_arm"
        """Registered robot type."""
        gain: float = 0.5
        """Fraction of the way to the commanded position moved per step."""


    class ToyArm(Robot):
        config_class = ToyArmConfig
        name = "toy_arm"

        def __init__(self, config):
            super().__init__(config)
            self._connected = False
            self.position = {j: 0.0 for j in JOINTS}

        @property
        def observation_features(self):
            return {f"{j}.pos": float for j in JOINTS}

        @property
        def action_features(self):
            return {f"{j}.pos": float for j in JOINTS}

        @property
        def is_connected(self):
            return self._connected

        def _require(self):
            if not self._connected:
                raise DeviceNotConnectedError("toy_arm is not connected: call connect() first")

        def connect(self, calibrate=True):
            if self._connected:
                raise DeviceAlreadyConnectedError("toy_arm is already connected")
            self._connected = True

        def disconnect(self):
            self._require()
            self._connected = False

        def get_observation(self):
            self._require()
            return {f"{j}.pos": self.position[j] for j in JOINTS}

        def send_action(self, action):
            self._require()
            for j in JOINTS:
                self.position[j] += self.config.gain * (float(action[f"{j}.pos"]) - self.position[j])
            return {f"{j}.pos": float(action[f"{j}.pos"]) for j in JOINTS}


    @dataclass
    class ToyWaveConfig(TeleoperatorConfig):
        type: str = "toy_wave"
        """Registered teleoperator type."""
        amplitude: float = 1.0
        """Peak joint command."""


    class ToyWave(Teleoperator):
        """Commands sin/cos waves of the step count."""

        config_class = ToyWaveConfig
        name = "toy_wave"

        def __init__(self, config):
            super().__init__(config)
            self._connected = False
            self.t = 0

        @property
        def action_features(self):
            return {f"{j}.pos": float for j in JOINTS}

        @property
        def is_connected(self):
            return self._connected

        def connect(self, calibrate=True):
            if self._connected:
                raise DeviceAlreadyConnectedError("toy_wave is already connected")
            self._connected = True

        def disconnect(self):
            if not self._connected:
                raise DeviceNotConnectedError("toy_wave is not connected")
            self._connected = False

        def reset(self):
            self.t = 0

        def get_action(self):
            if not self._connected:
                raise DeviceNotConnectedError("toy_wave is not connected")
            a = self.config.amplitude
            action = {"shoulder.pos": a * math.sin(0.3 * self.t), "elbow.pos": a * math.cos(0.3 * self.t)}
            self.t += 1
            return action
''')

PYPROJECT = textwrap.dedent("""
    [build-system]
    requires = ["setuptools>=61"]
    build-backend = "setuptools.build_meta"

    [project]
    name = "toy-arm-plugin"
    version = "0.1.0"

    [project.entry-points."robotlearn.robots"]
    toy_arm = "toy_arm_plugin:ToyArm"

    [project.entry-points."robotlearn.teleoperators"]
    toy_wave = "toy_arm_plugin:ToyWave"
""")


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory):
    """The plugin installed by pip (no network: no build isolation, no dependencies) into a temp dir."""
    root = tmp_path_factory.mktemp("plugin")
    (root / "src" / "toy_arm_plugin").mkdir(parents=True)
    (root / "src" / "toy_arm_plugin" / "__init__.py").write_text(PLUGIN)
    (root / "pyproject.toml").write_text(PYPROJECT)
    site = root / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(site),
            str(root),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    assert list(site.glob("toy_arm_plugin-0.1.0.dist-info/entry_points.txt"))
    return site


def robotlearn(site: Path, *args, timeout=180):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "robotlearn.scripts.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env=env,
    )


def test_plugin_robot_passes_check_robot(plugin_site, monkeypatch):
    from robotlearn.robots import ROBOTS
    from robotlearn.robots.check import check_robot
    from robotlearn.teleoperators import TELEOPERATORS
    from robotlearn.teleoperators.check import check_teleoperator

    assert "toy_arm" not in ROBOTS
    monkeypatch.syspath_prepend(str(plugin_site))
    for registry in (ROBOTS, TELEOPERATORS):
        registry.refresh()
    try:
        assert "toy_arm" in ROBOTS.names() and "toy_wave" in TELEOPERATORS.names()
        arm_cls = ROBOTS.get("toy_arm")
        check_robot(arm_cls(ROBOTS.config_class("toy_arm")()))
        check_teleoperator(TELEOPERATORS.get("toy_wave")(TELEOPERATORS.config_class("toy_wave")()))
    finally:
        monkeypatch.undo()
        for registry in (ROBOTS, TELEOPERATORS):
            registry.refresh()
    assert "toy_arm" not in ROBOTS


def test_plugin_options_show_in_help(plugin_site):
    proc = robotlearn(plugin_site, "record", "--robot.type=toy_arm", "--teleop.type=toy_wave", "--help")
    assert proc.returncode == 0, proc.stderr
    assert "--robot.gain=FLOAT" in proc.stdout and "Fraction of the way to the commanded position" in proc.stdout
    assert "--teleop.amplitude=FLOAT" in proc.stdout
    assert "toy_arm" in proc.stdout  # listed among the robot types


def test_record_three_episodes_with_the_plugin_robot(plugin_site, tmp_path):
    from robotlearn.datasets import LeRobotDataset

    root = tmp_path / "toy"
    proc = robotlearn(
        plugin_site,
        "record",
        "--robot.type=toy_arm",
        "--robot.gain=0.25",
        "--teleop.type=toy_wave",
        "--teleop.amplitude=2.0",
        f"--dataset.root={root}",
        "--dataset.num_episodes=3",
        "--dataset.episode_time_s=1",
        "--dataset.fps=10",
        "--dataset.reset_time_s=0",
        "--dataset.realtime=false",
        "--dataset.single_task=wave the arm",
        "--play_sounds=false",
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    ds = LeRobotDataset("local/recording", root=root)
    assert ds.meta.total_episodes == 3 and len(ds) == 30
    assert json.loads((root / "meta" / "info.json").read_text())["robot_type"] == "toy_arm"
    assert ds.meta.features["action"]["names"] == ["shoulder.pos", "elbow.pos"]
    # every episode starts the wave afresh (reset) and the arm lags its commands with gain 0.25
    t = np.arange(10)
    expected_action = np.stack([2.0 * np.sin(0.3 * t), 2.0 * np.cos(0.3 * t)], axis=1).astype(np.float32)
    for episode in range(3):
        start = episode * 10
        actions = np.stack([ds[start + i]["action"].numpy() for i in range(10)])
        np.testing.assert_allclose(actions, expected_action, rtol=1e-6, atol=1e-6)
    state = np.stack([ds[i]["observation.state"].numpy() for i in range(30)])
    position = np.zeros(2)
    for i in range(30):  # the arm keeps its position across episodes (a real arm is not reset)
        np.testing.assert_allclose(state[i], position, rtol=1e-5, atol=1e-6)
        position = position + 0.25 * (expected_action[i % 10] - position)
