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
_rerun_step = 0


def init_rerun(session_name: str = "recording", spawn: bool = True, save_path: str | None = None) -> bool:
    """Start logging to rerun (extra "viz": pip install 'robotlearn[viz]'): to a spawned viewer, or with
    `save_path` to that .rrd file (no display needed; open it later with `rerun PATH`).

    Returns False, after one warning, when rerun is not installed; recording continues without display.
    Every `log_rerun_data` call after this is one step on the `step` timeline, counted from 0."""
    global _rerun, _rerun_warned, _rerun_step
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
    if save_path is not None:
        from pathlib import Path

        Path(save_path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        rr.init(session_name, spawn=False)
        rr.save(str(Path(save_path).expanduser()))
    elif spawn:
        import os

        no_display = sys.platform.startswith("linux") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        )
        problem = "no display (DISPLAY is not set)" if no_display else None
        if problem is None:
            rr.init(session_name)
            try:
                rr.spawn()
            except RuntimeError as e:  # no `rerun` viewer executable on PATH
                problem = " ".join(str(e).split())
        if problem is not None:
            print(
                f"init_rerun: cannot show the rerun viewer: {problem}; continuing without display "
                "(--display_data=save:PATH writes an .rrd file instead)",
                file=sys.stderr,
            )
            return False
    else:
        rr.init(session_name)
    _rerun = rr
    _rerun_step = 0
    return True


def close_rerun() -> None:
    """Flush and close the rerun stream that `init_rerun` opened (the .rrd file is complete after this)."""
    global _rerun
    if _rerun is None:
        return
    _rerun.disconnect()
    _rerun = None


def log_rerun_data(observation: dict[str, Any], action: dict[str, Any]) -> None:
    """Send one step's observation and action to rerun (no-op unless `init_rerun` succeeded).

    Images (H, W, C) become Images; scalars and 1-element arrays Scalars, at the next `step`."""
    global _rerun_step
    if _rerun is None:
        return
    rr = _rerun
    if hasattr(rr, "set_time"):
        rr.set_time("step", sequence=_rerun_step)
    else:  # rerun < 0.23
        rr.set_time_sequence("step", _rerun_step)
    _rerun_step += 1
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
