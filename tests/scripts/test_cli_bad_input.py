"""Every command in the CLI's table, given each bad input that applies to it, prints one line that
names the problem and the fix, exits with status 2 and shows no traceback.

The cases are derived from the command table and each command's config class (`CONFIG` in its
module): a command added later is covered without editing this file.
"""

import dataclasses
import importlib
import os
import subprocess
import sys

import pytest

from robotlearn.configs import flag_table, registry_of
from robotlearn.scripts.cli import COMMANDS

MISSING = "/does/not/exist"


def _commands():
    """(name, Command) for every command, and "<command> <op>" for each entry of a module's SUBCOMMANDS."""
    for name, command in COMMANDS.items():
        yield name, command
        for op, sub in getattr(importlib.import_module(command.module), "SUBCOMMANDS", {}).items():
            yield f"{name} {op}", sub


def _config(command):
    module = importlib.import_module(command.module)
    assert dataclasses.is_dataclass(getattr(module, "CONFIG", None)), f"{command.module} has no CONFIG dataclass"
    return module.CONFIG


def _cases():
    """(command, case name, argv, text the message must contain)."""
    for name, command in _commands():
        cfg = _config(command)
        flags = flag_table(cfg)
        base = list(command.example)
        yield name, "unknown flag", [*base, "--no_such_flag=1"], "unknown flag --no_such_flag"
        for path, (owner, _f) in flags.items():
            if path.endswith(".type") and registry_of(owner) is not None:
                kind = registry_of(owner).kind
                yield name, f"unknown {path}", [*base, f"--{path}=no_such_type"], f"unknown {kind} type 'no_such_type'"
        ints = [p for p, (_, f) in flags.items() if f.type in (int, "int")]
        if ints:
            yield name, "invalid value", [*base, f"--{ints[0]}=many"], f"--{ints[0]}: cannot parse 'many'"
        if "policy.type" in flags:
            yield (
                name,
                "invalid option",
                [*base, "--policy.type=act", "--policy.n_action_steps=50", "--policy.chunk_size=10"],
                "n_action_steps=50 must be <= --policy.chunk_size=10",
            )
        for old in getattr(cfg, "__removed_flags__", {}):
            yield name, f"removed --{old}", [*base, f"--{old}=1"], f"--{old} was removed: use"
        if "dataset" in command.reads:
            root = next(r for r in ("dataset.root", "root", "roots") if r in flags)
            yield name, "missing dataset", [*base, f"--{root}={MISSING}"], f"No dataset at {MISSING}"
        if "policy" in command.reads:
            yield (
                name,
                "wrong policy path",
                [*base, f"--policy.path={MISSING}"],
                f"--policy.path={MISSING} does not exist",
            )


CASES = list(_cases())


def test_every_command_has_cases_for_its_inputs():
    names = {case[0] for case in CASES}
    assert names == {name for name, _ in _commands()}
    kinds = {case[1] for case in CASES}
    assert {"missing dataset", "wrong policy path", "invalid option", "removed --lr", "unknown robot.type"} <= kinds


@pytest.mark.parametrize(("command", "case", "argv", "expected"), CASES, ids=[f"{c[0]}: {c[1]}" for c in CASES])
def test_bad_input_gives_one_line_and_exit_2(command, case, argv, expected, tmp_path):
    env = {**os.environ, "ROBOTLEARN_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"}
    env.pop("ROBOTLEARN_DEBUG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "robotlearn.scripts.cli", *command.split(), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
        env=env,
    )
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr + proc.stdout
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"robotlearn {command}: "), lines[0]
    assert expected in lines[0], lines[0]


def test_debug_flag_shows_the_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "robotlearn.scripts.cli", "train", f"--dataset.root={MISSING}", "--debug"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "DatasetFormatError" in proc.stderr


def test_unknown_command_suggests_the_closest():
    proc = subprocess.run(
        [sys.executable, "-m", "robotlearn.scripts.cli", "trian"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2 and "did you mean 'train'" in proc.stderr
