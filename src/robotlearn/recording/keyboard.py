"""Keyboard control of a recording session: end an episode early, re-record it, or stop.

    listener, events = init_keyboard_listener()
    # right arrow (or n): events["exit_early"] = True           -> end the current phase now
    # left arrow  (or r): events["rerecord_episode"] = True     -> also ends the phase; the caller discards it
    # escape      (or q): events["stop_recording"] = True       -> also ends the phase
    listener.stop()

Keys are read from the terminal (stdin in cbreak mode, see utils/terminal_keys.py), so it works
over SSH and without a display. When stdin is not a terminal the listener does nothing and the
events stay False; `record_loop` then simply runs each phase to its end.
"""

from __future__ import annotations

import sys

from robotlearn.utils.terminal_keys import TerminalKeys

ARROW_ACTIONS = {"right": "exit_early", "left": "rerecord_episode", "escape": "stop_recording"}
LETTER_ACTIONS = {"n": "exit_early", "r": "rerecord_episode", "q": "stop_recording", "escape": "stop_recording"}


def new_events() -> dict[str, bool]:
    """The event flags shared between the listener and `record_loop`."""
    return {"exit_early": False, "rerecord_episode": False, "stop_recording": False}


class KeyboardListener:
    """Sets the event flags from key presses until `stop()`. `active` is False without a terminal."""

    def __init__(self, events: dict[str, bool], use_arrows: bool = True, verbose: bool = True):
        self.events = events
        self.actions = {**LETTER_ACTIONS, **(ARROW_ACTIONS if use_arrows else {})}
        self.verbose = verbose
        self.keys = TerminalKeys.get()
        self.active = self.keys.subscribe(self._on_key)

    def _on_key(self, key: str) -> None:
        action = self.actions.get(key)
        if action is None:
            return
        self.events[action] = True
        if action in ("rerecord_episode", "stop_recording"):
            self.events["exit_early"] = True  # both end the current phase
        if self.verbose:
            # One write: print() writes its parts separately, and the main thread's output could land between them.
            sys.stdout.write(f"\n[keyboard] {key}: {action}\n")
            sys.stdout.flush()

    def stop(self) -> None:
        if self.active:
            self.keys.unsubscribe(self._on_key)
            self.active = False


def init_keyboard_listener(use_arrows: bool = True) -> tuple[KeyboardListener, dict[str, bool]]:
    """Start listening to the terminal; returns (listener, events). See the module docstring.

    `use_arrows=False` leaves the arrow keys to a keyboard teleoperator (letters n/r/q still work).
    """
    events = new_events()
    return KeyboardListener(events, use_arrows=use_arrows), events
