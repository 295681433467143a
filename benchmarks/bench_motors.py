"""Motor bus round trips through the pty servo simulator (software cost of our stack, no wire time).

On real hardware add the wire time: at 1 Mbps a 6-motor sync read is ~60 bytes out and back,
about 0.6 ms, plus each servo's return delay (SO arms set it to 0 at connect).
"""

import math
import time

from robotlearn.motors import DynamixelMotorsBus, FeetechMotorsBus, Motor, MotorCalibration
from robotlearn.motors.sim import ServoSimulator


def _rate(fn, seconds=1.0):
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
        n += 1
    return (time.perf_counter() - start) / n * 1000


def main() -> None:
    rows = []
    for protocol, bus_cls, model in (
        ("feetech", FeetechMotorsBus, "sts3215"),
        ("dynamixel", DynamixelMotorsBus, "xl330-m288"),
    ):
        with ServoSimulator(protocol, {i: model for i in range(1, 7)}) as sim:
            for i in range(1, 7):
                sim.servo(i).motion = lambda t, i=i: 2048 + 300 * math.sin(t + i)
            motors = {f"m{i}": Motor(i, model) for i in range(1, 7)}
            bus = bus_cls(sim.port, motors, {f"m{i}": MotorCalibration(i, 0, 0, 1000, 3000) for i in range(1, 7)})
            bus.connect()
            rows.append((protocol, "read 1 motor", _rate(lambda: bus.read("Present_Position", "m1"))))
            rows.append((protocol, "sync_read 6 motors", _rate(lambda: bus.sync_read("Present_Position"))))
            rows.append((protocol, "sync_write 6 (no reply)", _rate(lambda: bus.sync_write("Goal_Position", 10.0))))
            bus.disconnect()
    print(f"{'protocol':<10} {'operation':<22} {'ms/call':>8} {'calls/s':>8}")
    for protocol, op, ms in rows:
        print(f"{protocol:<10} {op:<22} {ms:>8.3f} {1000 / ms:>8.0f}")


if __name__ == "__main__":
    main()
