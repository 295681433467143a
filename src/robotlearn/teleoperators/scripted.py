"""`ScriptedTeleoperator`: a scripted expert standing in for a human, driving the simulated robot it reads.

The lifecycle the scripted teleoperators share (`scripted_pusht`, `scripted_lang_pusht`,
`scripted_metaworld`): built with or attached to its robot (`make_teleoperator_from_config` passes it),
`connect()` builds the expert (`make_expert()`, the subclass's), `get_action()` asks it for the robot's
current simulator state, `disconnect()` drops it.
"""

from __future__ import annotations

from robotlearn.errors import ConfigError, DeviceAlreadyConnectedError, DeviceNotConnectedError
from robotlearn.teleoperators.teleoperator import Teleoperator, TeleoperatorConfig


class ScriptedTeleoperator(Teleoperator):
    """Base class of scripted experts that drive a simulated robot; see the module docstring."""

    needs_robot = True  # make_teleoperator_from_config passes the robot it drives
    robot_type = "sim_pusht"  # the robot it drives

    def __init__(self, config: TeleoperatorConfig, robot=None):
        super().__init__(config)
        self.robot = robot
        self.expert = None

    def make_expert(self):
        """The expert `connect()` builds."""
        raise NotImplementedError

    def attach(self, robot) -> None:
        """Drive `robot` (connected or not yet)."""
        self.robot = robot

    @property
    def is_connected(self) -> bool:
        return self.expert is not None

    def connect(self, calibrate: bool = True) -> None:
        """Build the expert. ConfigError if no robot is attached."""
        name = type(self).__name__
        if self.expert is not None:
            raise DeviceAlreadyConnectedError(f"{name} is already connected")
        if self.robot is None:
            raise ConfigError(
                f"{name} needs the {self.robot_type} robot it drives: {name}(config, robot=robot) or teleop.attach(robot)"
            )
        self.expert = self.make_expert()

    def robot_env(self):
        """The connected expert's robot's simulator; DeviceNotConnectedError if either is not connected."""
        name = type(self).__name__
        if self.expert is None:
            raise DeviceNotConnectedError(f"{name} is not connected: call teleop.connect() first")
        env = getattr(self.robot, "env", None)
        if env is None:
            raise DeviceNotConnectedError(f"{name}: the {self.robot_type} robot is not connected")
        return env

    def disconnect(self) -> None:
        if self.expert is None:
            raise DeviceNotConnectedError(f"{type(self).__name__} is not connected")
        self.expert = None
