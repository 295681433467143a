"""`robotlearn` command: dispatches `robotlearn <command> [flags]` to `robotlearn.scripts.<module>.main`.

Each command lives in its own module with a `main(argv: list[str]) -> int` function that parses
flags into a config dataclass (its module-level `CONFIG`, read by `--help` and by the tests), calls
one library function and prints. Adding a command is one line in COMMANDS. Modules are imported
lazily: `robotlearn --help` stays fast and a missing optional extra only affects its command.

Errors: any robotlearn error (`robotlearn.errors.RobotlearnError`, which includes bad flags)
prints one line `robotlearn <command>: <message>` and exits with status 2. `--debug` (anywhere on
the command line) or `ROBOTLEARN_DEBUG=1` shows the traceback instead.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass

from robotlearn.errors import RobotlearnError


@dataclass(frozen=True)
class Command:
    module: str
    """Module with `main(argv) -> int`."""
    help: str
    """One line for `robotlearn --help`."""
    reads: tuple[str, ...] = ()
    """Inputs it reads that a user can get wrong: "dataset" (--dataset.root or --root), "policy" (--policy.path)."""
    example: tuple[str, ...] = ()
    """Flags that a minimal invocation needs besides those inputs (e.g. a task string); used by the tests."""
    exit_without_finalizers: bool = False
    """Run as the process (`robotlearn <command>`), end with os._exit once its output is flushed: its native
    thread pools (torch, pyarrow, sockets' threads) are then not torn down by the interpreter's finalization,
    which in the RL processes sometimes aborted a finished run ("terminate called without an active
    exception", exit 134) after everything was saved."""


COMMANDS: dict[str, Command] = {
    "demo": Command(
        "robotlearn.scripts.demo", "Record, train and evaluate on the simulated default (what `make demo` runs)."
    ),
    "quickstart": Command(
        "robotlearn.scripts.quickstart", "Record -> train -> evaluate -> HTML report, in one command."
    ),
    "record": Command(
        "robotlearn.scripts.record",
        "Record episodes from a robot (teleoperated or by a policy) into a dataset.",
        reads=("policy",),
        example=("--dataset.single_task=push the T", "--play_sounds=false"),
    ),
    "replay": Command(
        "robotlearn.scripts.replay",
        "Replay the actions of a recorded episode on a robot.",
        reads=("dataset",),
        example=("--play_sounds=false",),
    ),
    "teleoperate": Command("robotlearn.scripts.teleoperate", "Drive a robot with a teleoperator, without recording."),
    "calibrate": Command(
        "robotlearn.scripts.calibrate", "Calibrate a robot arm or leader arm (writes its calibration file)."
    ),
    "find-port": Command("robotlearn.scripts.find_port", "Find the serial port of a motor bus by unplugging it."),
    "find-cameras": Command("robotlearn.scripts.find_cameras", "List the cameras OpenCV can open."),
    "train": Command("robotlearn.scripts.train", "Train a policy (ACT, Diffusion) on a dataset.", reads=("dataset",)),
    "dagger": Command(
        "robotlearn.scripts.dagger", "Train on PushT demos, then DAgger: the expert labels the policy's states."
    ),
    "eval": Command("robotlearn.scripts.eval", "Evaluate a trained policy in simulation.", reads=("policy",)),
    "dataset": Command(
        "robotlearn.scripts.dataset",
        "Dataset tools: validate, repair, merge, split, delete, edit, convert (`robotlearn dataset --help`).",
    ),
    "serve-policy": Command(
        "robotlearn.scripts.serve_policy",
        "Serve a policy's action chunks to robots (async inference).",
        reads=("policy",),
    ),
    "run-policy": Command("robotlearn.scripts.run_policy", "Run a robot from a policy server: plan ahead, never wait."),
    "rl-learner": Command(
        "robotlearn.scripts.rl_learner",
        "Train SAC on the steps rl-actor processes stream in (RL, human in the loop).",
        exit_without_finalizers=True,
    ),
    "rl-actor": Command(
        "robotlearn.scripts.rl_actor",
        "Act in an environment for an rl-learner, with its latest weights.",
        exit_without_finalizers=True,
    ),
    "train-reward-classifier": Command(
        "robotlearn.scripts.train_reward_classifier", "Learn success from a dataset's labels, to use as the RL reward."
    ),
    "dataset-info": Command(
        "robotlearn.scripts.dataset_info", "Print a dataset's summary and validate its files.", reads=("dataset",)
    ),
}

EXIT_USAGE = 2  # bad flags, bad input, anything the user can fix


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: robotlearn <command> [flags]   (robotlearn <command> --help for its flags)", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {cmd.help}" for name, cmd in COMMANDS.items()]
    lines += ["", "--debug (or ROBOTLEARN_DEBUG=1) shows the full traceback of an error."]
    return "\n".join(lines)


def one_line(error: BaseException) -> str:
    """An error's message on one line (its class name when it has no message)."""
    text = " ".join(str(error).split())
    return text or type(error).__name__


def debug_requested(argv: list[str]) -> bool:
    """--debug anywhere on the command line, or ROBOTLEARN_DEBUG set (not "0")."""
    return "--debug" in argv or os.environ.get("ROBOTLEARN_DEBUG", "") not in ("", "0")


def run_command(prog: str, command: Command, argv: list[str], debug: bool = False) -> int:
    """Runs `command`'s main(argv); a robotlearn error becomes one line `<prog>: message` and exit 2."""
    try:
        module = importlib.import_module(command.module)
        return int(module.main(argv) or 0)
    except RobotlearnError as e:
        if debug:
            raise
        print(f"{prog}: {one_line(e)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        if debug:
            raise
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    as_process = argv is None  # the console script / python -m: this command is the whole process
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = debug_requested(argv)
    argv = [a for a in argv if a != "--debug"]
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        import difflib

        close = difflib.get_close_matches(name, list(COMMANDS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        print(f"robotlearn: unknown command {name!r}{hint} (robotlearn --help lists them)", file=sys.stderr)
        return EXIT_USAGE
    code = run_command(f"robotlearn {name}", COMMANDS[name], rest, debug)
    if as_process and COMMANDS[name].exit_without_finalizers:
        import logging

        logging.shutdown()  # what atexit would have flushed
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


if __name__ == "__main__":
    sys.exit(main())
