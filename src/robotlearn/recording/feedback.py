"""Telling the operator what is happening: spoken messages and the optional rerun viewer."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from typing import Any

import numpy as np

log = logging.getLogger("robotlearn.recording")

# Speech commands tried in order: speech-dispatcher (Linux), macOS, espeak.
SPEECH_COMMANDS = (["spd-say"], ["say"], ["espeak"], ["espeak-ng"])


def _speech_command() -> list[str] | None:
    for cmd in SPEECH_COMMANDS:
        if shutil.which(cmd[0]):
            return cmd
    return None


def log_say(text: str, play_sounds: bool = True, blocking: bool = False) -> None:
    """Print `text` and, if `play_sounds` and a speech program exists (spd-say, say, espeak), speak it.

    `blocking=True` waits until the sentence has been spoken.
    """
    print(text, flush=True)
    log.info(text)
    if not play_sounds:
        return
    cmd = _speech_command()
    if cmd is None:
        return
    if cmd[0] == "spd-say" and blocking:
        cmd = cmd + ["--wait"]
    try:
        proc = subprocess.Popen([*cmd, text], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if blocking:
            proc.wait()
    except OSError as e:  # a broken speech install must not stop a recording
        print(f"log_say: could not speak with {cmd[0]}: {e}", file=sys.stderr)


_rerun = None
_rerun_warned = False


def init_rerun(session_name: str = "recording", spawn: bool = True) -> bool:
    """Start the rerun viewer (extra "viz": pip install 'robotlearn[viz]'). Returns False, after
    one warning, when rerun is not installed; recording continues without display."""
    global _rerun, _rerun_warned
    try:
        import rerun as rr
    except ImportError:
        if not _rerun_warned:
            print(
                "init_rerun: rerun is not installed (pip install 'robotlearn[viz]'); continuing without display",
                file=sys.stderr,
            )
            _rerun_warned = True
        return False
    rr.init(session_name, spawn=spawn)
    _rerun = rr
    return True


def log_rerun_data(observation: dict[str, Any], action: dict[str, Any]) -> None:
    """Send one step's observation and action to rerun (no-op unless `init_rerun` succeeded)."""
    if _rerun is None:
        return
    rr = _rerun
    for prefix, values in (("observation", observation), ("action", action)):
        for name, value in values.items():
            if isinstance(value, np.ndarray) and value.ndim == 3:
                rr.log(f"{prefix}.{name}", rr.Image(value))
            elif np.isscalar(value) or (isinstance(value, np.ndarray) and value.size == 1):
                rr.log(
                    f"{prefix}.{name}",
                    rr.Scalars(float(np.asarray(value).reshape(-1)[0]))
                    if hasattr(rr, "Scalars")
                    else rr.Scalar(float(np.asarray(value).reshape(-1)[0])),
                )
