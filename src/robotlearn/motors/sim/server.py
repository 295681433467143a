"""`ServoSimulator`: simulated servos answering on a real pseudo-terminal.

    sim = ServoSimulator("feetech", {1: "sts3215", 2: "sts3215"})
    sim.start()
    bus = FeetechMotorsBus(sim.port, ...)   # pyserial opens the pty like a USB adapter
    ...
    sim.stop()

A background thread reads instruction packets from the pty master and answers like a chain of
servos: PING, READ, WRITE, SYNC_READ, SYNC_WRITE, with the protocol's framing and checksum.
Fault injection for tests: `corrupt_replies(n)` flips a bit in the checksum of the next n
replies, `drop_replies(n)` swallows them (the client times out), `remove(id)` takes a motor off
the bus, and `servo(id).motion = f(t)` moves a joint over time while its torque is off.
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty

from robotlearn.errors import RobotlearnError
from robotlearn.motors.bus import PING, READ, SYNC_READ, SYNC_WRITE, WRITE, ChecksumError
from robotlearn.motors.dynamixel import DynamixelCodec
from robotlearn.motors.feetech import FeetechCodec
from robotlearn.motors.sim.servo import SimServo

CODECS = {"feetech": FeetechCodec, "dynamixel": DynamixelCodec}
INSTRUCTION_ERROR = {"feetech": 0x40, "dynamixel": 2}


class _Stopped(RobotlearnError):
    """Internal: the simulator was stopped while its serving thread waited for bytes."""


class ServoSimulator:
    """Servos `{id: model}` speaking `protocol` on a pty; `port` is the path to open."""

    def __init__(self, protocol: str, motors: dict[int, str], position: float = 2048.0):
        if protocol not in CODECS:
            raise ValueError(f"unknown protocol {protocol!r}; use one of {sorted(CODECS)}")
        self.protocol = protocol
        self.codec = CODECS[protocol]
        self.servos: dict[int, SimServo] = {i: SimServo(i, model, protocol, position) for i, model in motors.items()}
        self._removed: dict[int, SimServo] = {}
        self._corrupt = 0
        self._drop = 0
        self._lock = threading.Lock()
        self._buf = b""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.master_fd = self.slave_fd = -1
        self.port = ""
        self.packets_received = 0

    # -- lifecycle
    def start(self) -> ServoSimulator:
        self.master_fd, self.slave_fd = os.openpty()
        tty.setraw(self.slave_fd)  # no echo, no line editing: bytes pass through untouched
        # Keeping the slave open here means the pty survives clients opening and closing it.
        self.port = os.ttyname(self.slave_fd)
        self._thread = threading.Thread(target=self._serve, name=f"servo-sim-{self.protocol}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        for fd in (self.master_fd, self.slave_fd):
            if fd >= 0:
                os.close(fd)
        self.master_fd = self.slave_fd = -1

    def __enter__(self) -> ServoSimulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- fault injection and inspection
    def servo(self, motor_id: int) -> SimServo:
        return self.servos[motor_id]

    def corrupt_replies(self, n: int) -> None:
        """The next `n` status packets get a wrong checksum."""
        with self._lock:
            self._corrupt = n

    def drop_replies(self, n: int) -> None:
        """The next `n` status packets are never sent."""
        with self._lock:
            self._drop = n

    def remove(self, motor_id: int) -> None:
        """Take a motor off the bus (unplugged cable); `restore` puts it back."""
        with self._lock:
            self._removed[motor_id] = self.servos.pop(motor_id)

    def restore(self, motor_id: int) -> None:
        with self._lock:
            self.servos[motor_id] = self._removed.pop(motor_id)

    def wait_until(self, predicate, timeout_s: float = 2.0) -> bool:
        """Poll `predicate()` until true or timeout (writes without a reply land asynchronously)."""
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True

    # -- serving
    def _read(self, n: int) -> bytes:
        while len(self._buf) < n:
            if self._stop.is_set():
                raise _Stopped
            ready, _, _ = select.select([self.master_fd], [], [], 0.05)
            if ready:
                try:
                    self._buf += os.read(self.master_fd, 4096)
                except OSError:  # no client has the slave open: nothing to read yet
                    self._stop.wait(0.01)
        out, self._buf = self._buf[:n], self._buf[n:]
        return out

    def _serve(self) -> None:
        while True:
            try:
                motor_id, instr, params = self.codec.read_packet(self._read)
            except _Stopped:
                return
            except ChecksumError:
                continue  # a real servo ignores a corrupted instruction
            self.packets_received += 1
            with self._lock:
                replies = self._handle(motor_id, instr, params)
                out = b"".join(self._finish(r) for r in replies)
            if out:
                os.write(self.master_fd, out)

    def _finish(self, packet: bytes) -> bytes:
        if self._drop > 0:
            self._drop -= 1
            return b""
        if self._corrupt > 0:
            self._corrupt -= 1
            return packet[:-1] + bytes([packet[-1] ^ 0x01])
        return packet

    def _handle(self, motor_id: int, instr: int, params: bytes) -> list[bytes]:
        status = self.codec.status
        broadcast = motor_id == self.codec.BROADCAST_ID
        if instr == SYNC_WRITE:
            addr, size, rest = self.codec.parse_addr_len(params)
            for i in range(0, len(rest) - size, size + 1):
                servo = self.servos.get(rest[i])
                if servo is not None:
                    servo.write(addr, rest[i + 1 : i + 1 + size])
            return []
        if instr == SYNC_READ:
            addr, size, ids = self.codec.parse_addr_len(params)
            return [status(i, 0, self.servos[i].read(addr, size)) for i in ids if i in self.servos]
        targets = (
            list(self.servos.values()) if broadcast else [self.servos[motor_id]] if motor_id in self.servos else []
        )
        replies = []
        for servo in targets:
            if instr == PING:
                data = servo.model_number.to_bytes(2, "little") + b"\x03" if self.protocol == "dynamixel" else b""
                replies.append(status(servo.id, 0, data))
            elif instr == READ:
                addr, size, _ = self.codec.parse_addr_len(params)
                replies.append(status(servo.id, 0, servo.read(addr, size)))
            elif instr == WRITE:
                f = self.codec.FIELD_BYTES
                error = servo.write(int.from_bytes(params[:f], "little"), params[f:])
                replies.append(status(servo.id, error, b""))
            else:
                replies.append(status(servo.id, INSTRUCTION_ERROR[self.protocol], b""))
        # Only a broadcast PING is answered by everyone; other broadcasts are silent.
        return replies if (not broadcast or instr == PING) else []
