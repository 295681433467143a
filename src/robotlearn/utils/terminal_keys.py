"""Key presses from the terminal, without a display or extra packages.

When stdin is a terminal, a background thread switches it to cbreak mode (keys arrive one by one,
without Enter; Ctrl-C still works), decodes arrow-key escape sequences and calls the subscribed
callbacks with key names: "up", "down", "left", "right", "escape", or the character itself
("a", " ", ...). The terminal mode is restored when the last subscriber unsubscribes and at exit.
When stdin is not a terminal (a pipe, a test runner, a service) nothing is read: subscribing is a
no-op and `TerminalKeys.active` is False.

One reader serves every subscriber (the recording's key listener and the keyboard teleoperator
both read the same stdin).
"""

from __future__ import annotations

import atexit
import os
import select
import sys
import threading
from collections.abc import Callable

ESCAPE_SEQUENCES = {
    b"\x1b[A": "up",
    b"\x1b[B": "down",
    b"\x1b[C": "right",
    b"\x1b[D": "left",
    b"\x1bOA": "up",
    b"\x1bOB": "down",
    b"\x1bOC": "right",
    b"\x1bOD": "left",
}
ESCAPE_WAIT_S = 0.05  # a lone ESC is the escape key if no sequence follows within this time


class TerminalKeys:
    """The process-wide stdin key reader (use `TerminalKeys.get()`)."""

    _instance: TerminalKeys | None = None
    _lock = threading.Lock()

    def __init__(self, fd: int | None = None):
        self.fd = fd  # resolved when the first subscriber arrives
        self.callbacks: list[Callable[[str], None]] = []
        self.thread: threading.Thread | None = None
        self.stop_event = threading.Event()
        self.saved_mode = None

    @classmethod
    def get(cls) -> TerminalKeys:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    @property
    def active(self) -> bool:
        return self.thread is not None and self.thread.is_alive()

    @staticmethod
    def stdin_is_tty() -> bool:
        try:
            return os.isatty(sys.stdin.fileno())
        except (AttributeError, OSError, ValueError):
            return False

    def subscribe(self, callback: Callable[[str], None]) -> bool:
        """Call `callback(key_name)` on each key press. Returns False (no-op) when stdin is no terminal."""
        if not self.stdin_is_tty():
            return False
        with self._lock:
            self.callbacks.append(callback)
            if not self.active:
                self._start()
        return True

    def unsubscribe(self, callback: Callable[[str], None]) -> None:
        with self._lock:
            if callback in self.callbacks:
                self.callbacks.remove(callback)
            last = not self.callbacks
        if last:
            self._stop()

    def _start(self) -> None:
        import termios
        import tty

        if self.fd is None:
            self.fd = sys.stdin.fileno()
        self.saved_mode = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)
        atexit.register(self._restore)
        self.stop_event.clear()
        self.thread = threading.Thread(target=self._run, name="terminal-keys", daemon=True)
        self.thread.start()

    def _stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout=1.0)
        self.thread = None
        self._restore()

    def _restore(self) -> None:
        if self.saved_mode is not None:
            import termios

            try:
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self.saved_mode)
            except termios.error:
                pass
            self.saved_mode = None

    def _readable(self, timeout: float) -> bool:
        return bool(select.select([self.fd], [], [], timeout)[0])

    def _run(self) -> None:
        pending = b""
        while not self.stop_event.is_set():
            if not self._readable(0.1):
                continue
            try:
                data = os.read(self.fd, 64)
            except OSError:
                return
            if not data:  # end of input
                return
            pending += data
            while pending:
                if pending.startswith(b"\x1b"):
                    if len(pending) < 3 and self._readable(ESCAPE_WAIT_S):
                        pending += os.read(self.fd, 64)
                        continue
                    key = ESCAPE_SEQUENCES.get(pending[:3])
                    if key is not None:
                        self._emit(key)
                        pending = pending[3:]
                    elif len(pending) >= 2 and pending[1:2] in (b"[", b"O"):
                        pending = pending[3:]  # another sequence (F-keys...): ignore it
                    else:
                        self._emit("escape")
                        pending = pending[1:]
                else:
                    self._emit(pending[:1].decode("latin-1"))
                    pending = pending[1:]

    def _emit(self, key: str) -> None:
        for callback in list(self.callbacks):
            callback(key)
