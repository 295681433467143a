"""Command-line options shared by `robotlearn record`, `replay` and `teleoperate`: which robot and
which teleoperator, as flat dataclasses (`--robot.type=so100_follower --robot.port=/dev/ttyACM0`).

Options a type does not have are refused with an error listing its options; options without a
flag of their own go in `--robot.options='{"name": value}'` (JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class RobotArgs:
    type: str = field(default="sim_pusht", metadata={"help": "Robot type: sim_pusht, sim_arm, so100_follower, so101_follower, koch_follower."})
    port: str | None = field(default=None, metadata={"help": "Serial port of the robot's motor bus (find it with `robotlearn find-port`)."})
    id: str | None = field(default=None, metadata={"help": "Name of this physical robot; selects its calibration file."})
    cameras: dict | None = field(default=None, metadata={"help": (
        'Cameras as JSON, name -> spec, e.g. \'{"front": {"type": "opencv", "index_or_path": 0, "width": 640, '
        '"height": 480, "fps": 30}}\' (types: opencv, sim). Each becomes observation.images.<name>.')})
    seed: int | None = field(default=None, metadata={"help": "Simulated robots: seed of the initial states (default: random)."})
    options: dict | None = field(default=None, metadata={"help": "Other options of the robot's config as JSON, e.g. '{\"image_size\": 64}'."})

    def make(self):
        """Build (not connect) the robot."""
        from robotlearn.robots import make_robot

        return make_robot(self.type, port=self.port, id=self.id, cameras=self.cameras, seed=self.seed, **(self.options or {}))


@dataclass
class TeleopArgs:
    type: str | None = field(default=None, metadata={"help": (
        "Teleoperator type: scripted_pusht (expert for sim_pusht), sim_arm_leader (scripted leader for sim_arm), "
        "keyboard (arrow keys), so100_leader, so101_leader, koch_leader. Empty: none (e.g. with --policy.path).")})
    port: str | None = field(default=None, metadata={"help": "Serial port of a leader arm."})
    id: str | None = field(default=None, metadata={"help": "Name of the leader arm; selects its calibration file."})
    options: dict | None = field(default=None, metadata={"help": "Other options of the teleoperator's config as JSON."})

    def make(self, robot):
        """Build (not connect) the teleoperator; scripted ones are linked to `robot`. None if no type."""
        if not self.type:
            return None
        from robotlearn.teleoperators import make_teleoperator

        return make_teleoperator(self.type, robot=robot, port=self.port, id=self.id, **(self.options or {}))
