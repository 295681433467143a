"""check_teleoperator over every registered teleoperator (leader arms against the servo simulator
on a pty, scripted experts with the robot they drive), and what it reports for a broken one."""

import importlib.util
from contextlib import ExitStack
from dataclasses import dataclass

import pytest

from robotlearn.errors import DeviceAlreadyConnectedError
from robotlearn.motors import MotorCalibration, save_calibration
from robotlearn.motors.dynamixel import DynamixelMotorsBus
from robotlearn.motors.sim import ServoSimulator
from robotlearn.robots import make_robot
from robotlearn.robots.servo_device import ServoBusDevice
from robotlearn.teleoperators import TELEOPERATORS, Teleoperator, TeleoperatorConfig, make_teleoperator_from_config
from robotlearn.teleoperators.check import check_teleoperator
from robotlearn.utils.checks import ConformanceError


def build(name: str, stack: ExitStack, tmp_path) -> Teleoperator:
    """Teleoperator `name` ready to be checked: leader arms on a simulated bus with a calibration
    file, experts attached to a connected robot of the kind they drive."""
    cls = TELEOPERATORS.get(name)
    if issubclass(cls, ServoBusDevice):
        protocol = "dynamixel" if issubclass(cls.bus_class, DynamixelMotorsBus) else "feetech"
        sim = stack.enter_context(ServoSimulator(protocol, {i: model for i, model in cls.motor_specs.values()}))
        config = cls.config_class(port=sim.port, id="check", calibration_dir=str(tmp_path))
        save_calibration(
            cls(config).calibration_fpath,
            {n: MotorCalibration(i, 0, 0, 1048, 3048) for n, (i, _) in cls.motor_specs.items()},
        )
        return cls(config)
    robot = None
    if cls.needs_robot:
        robot_type = getattr(cls, "robot_type", "sim_pusht")  # the robot an expert drives
        package = {"sim_pusht": "gym_pusht", "sim_lang_pusht": "pymunk"}.get(robot_type, "metaworld")
        if importlib.util.find_spec(package) is None:  # not importorskip: importing MuJoCo early breaks gym_hil
            pytest.skip(f"{robot_type} needs {package}")
        robot = make_robot(robot_type, seed=0)
        robot.connect()
        stack.callback(robot.disconnect)
    return make_teleoperator_from_config(cls.config_class(), robot=robot)


@pytest.mark.parametrize("name", TELEOPERATORS.names())
def test_every_registered_teleoperator_passes_check_teleoperator(name, tmp_path):
    with ExitStack() as stack:
        teleop = build(name, stack, tmp_path)
        check_teleoperator(teleop)
        assert not teleop.is_connected


@dataclass
class BrokenTeleopConfig(TeleoperatorConfig):
    type: str = "broken_teleop"


class BrokenTeleop(Teleoperator):
    """Connects twice without complaint (the wrong error), and its actions miss a key."""

    config_class = BrokenTeleopConfig
    name = "broken_teleop"

    def __init__(self, config=None):
        super().__init__(config or BrokenTeleopConfig())
        self.connected = False

    @property
    def action_features(self):
        return {"a": float, "b": float}

    @property
    def is_connected(self):
        return self.connected

    def connect(self, calibrate=True):
        if self.connected:
            raise ValueError("already")  # should be DeviceAlreadyConnectedError
        self.connected = True

    def get_action(self):
        return {"a": float("nan")}

    def disconnect(self):
        self.connected = False


def test_check_teleoperator_lists_every_problem_of_a_broken_one():
    with pytest.raises(ConformanceError) as info:
        check_teleoperator(BrokenTeleop())
    problems = "\n".join(info.value.problems)
    for expected in [
        "config.type 'broken_teleop' is not registered in robotlearn.teleoperators.TELEOPERATORS",
        "get_action() before connect() did not raise",
        "disconnect() before connect() did not raise",
        f"a second connect() raised ValueError (already); expected robotlearn.errors.{DeviceAlreadyConnectedError.__name__}",
        "get_action() lacks keys ['b']",
        "get_action()['a'] is nan; expected a finite scalar",
    ]:
        assert expected in problems, f"{expected!r} not in:\n{problems}"
