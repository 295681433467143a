"""Protocol-level servo simulator on a pseudo-terminal: test buses and robots without hardware.

    python -m robotlearn.motors.sim --protocol=feetech --ids=1,2,3,4,5,6

prints a port path (e.g. /dev/pts/5) to pass as `--robot.port`.
"""

from robotlearn.motors.sim.server import ServoSimulator
from robotlearn.motors.sim.servo import SimServo

__all__ = ["ServoSimulator", "SimServo"]
