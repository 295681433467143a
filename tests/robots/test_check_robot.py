"""check_robot over every registered robot (real arms against the servo simulator on a pty), and
what it reports for a robot that breaks the contract."""

from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np
import pytest

from robotlearn.errors import DeviceNotConnectedError
from robotlearn.motors import MotorCalibration, save_calibration
from robotlearn.motors.dynamixel import DynamixelMotorsBus
from robotlearn.motors.sim import ServoSimulator
from robotlearn.robots import ROBOTS, Robot, RobotConfig, make_robot
from robotlearn.robots.check import check_robot
from robotlearn.robots.servo_device import ServoBusDevice
from robotlearn.utils.checks import ConformanceError


def simulated_servo_arm(cls, stack: ExitStack, tmp_path):
    """An instance of servo arm class `cls` on a simulated bus, with a calibration file (range
    1048..3048 ticks on every joint) so that it connects."""
    protocol = "dynamixel" if issubclass(cls.bus_class, DynamixelMotorsBus) else "feetech"
    sim = stack.enter_context(ServoSimulator(protocol, {i: model for i, model in cls.motor_specs.values()}))
    config = cls.config_class(port=sim.port, id="check", calibration_dir=str(tmp_path))
    device = cls(config)
    save_calibration(
        device.calibration_fpath,
        {name: MotorCalibration(i, 0, 0, 1048, 3048) for name, (i, _) in cls.motor_specs.items()},
    )
    return cls(config)  # built again, now that its calibration file exists


@pytest.mark.parametrize("name", ROBOTS.names())
def test_every_registered_robot_passes_check_robot(name, tmp_path):
    cls = ROBOTS.get(name)
    if name == "sim_pusht":
        pytest.importorskip("gym_pusht")
    with ExitStack() as stack:
        robot = (
            simulated_servo_arm(cls, stack, tmp_path) if issubclass(cls, ServoBusDevice) else cls(cls.config_class())
        )
        check_robot(robot)
        assert not robot.is_connected


def test_check_robot_passes_a_robot_with_cameras():
    check_robot(make_robot("sim_arm", cameras={"wrist": {"type": "sim", "width": 20, "height": 10}}))


@dataclass
class BrokenConfig(RobotConfig):
    type: str = "broken_toy"


class BrokenRobot(Robot):
    """Breaks the contract in the usual ways: a bad feature, no not-connected error, wrong keys,
    wrong image shape, and an action it does not echo back."""

    config_class = BrokenConfig
    name = "broken_toy"

    def __init__(self, config=None):
        super().__init__(config or BrokenConfig())
        self.connected = False

    @property
    def observation_features(self):
        return {"x": float, "cam": (8, 8, 3), "bad": "int32"}

    @property
    def action_features(self):
        return {"x": float}

    @property
    def is_connected(self):
        return self.connected

    def connect(self, calibrate=True):
        self.connected = True  # a second connect() raises nothing

    def disconnect(self):
        if not self.connected:
            raise RuntimeError("not connected")  # not the DeviceNotConnectedError family
        self.connected = False

    def get_observation(self):
        return {"x": 1.0, "cam": np.zeros((4, 4, 3), np.uint8), "extra": 2.0}  # even before connect()

    def send_action(self, action):
        if not self.connected:
            raise DeviceNotConnectedError("not connected")
        return {}


def test_check_robot_lists_every_problem_of_a_broken_robot():
    with pytest.raises(ConformanceError) as info:
        check_robot(BrokenRobot())
    problems = "\n".join(info.value.problems)
    for expected in [
        "config.type 'broken_toy' is not registered in robotlearn.robots.ROBOTS",
        "observation_features['bad'] is 'int32'",
        "get_observation() before connect() did not raise; expected robotlearn.errors.DeviceNotConnectedError",
        "disconnect() before connect() raised RuntimeError",
        "a second connect() did not raise; expected robotlearn.errors.DeviceAlreadyConnectedError",
        "send_action()'s return value lacks keys ['x']",
    ]:
        assert expected in problems, f"{expected!r} not in:\n{problems}"
    assert str(info.value).startswith("robot 'broken_toy' (BrokenRobot) breaks its interface")
    assert len(info.value.problems) >= 6
