"""`robotlearn` command: dispatches `robotlearn <command> [flags]` to `robotlearn.scripts.<module>.main`.

Each command lives in its own module with a `main(argv: list[str]) -> int | None` function, so
adding a command is one line in COMMANDS. Modules are imported lazily: `robotlearn --help` stays
fast and a missing optional extra only affects the command that needs it.
"""

from __future__ import annotations

import importlib
import sys

# command name -> (module, one-line description)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("robotlearn.scripts.demo", "Record, train and evaluate on the simulated default (what `make demo` runs)."),
    "quickstart": ("robotlearn.scripts.quickstart", "Record -> train -> evaluate -> HTML report, in one command."),
    "record": ("robotlearn.scripts.record", "Record episodes from a robot (teleoperated or by a policy) into a dataset."),
    "replay": ("robotlearn.scripts.replay", "Replay the actions of a recorded episode on a robot."),
    "teleoperate": ("robotlearn.scripts.teleoperate", "Drive a robot with a teleoperator, without recording."),
    "find-port": ("robotlearn.scripts.find_port", "Find the serial port of a motor bus by unplugging it."),
    "find-cameras": ("robotlearn.scripts.find_cameras", "List the cameras OpenCV can open."),
    "train": ("robotlearn.scripts.train", "Train a policy (ACT, Diffusion) on a dataset."),
    "eval": ("robotlearn.scripts.eval", "Evaluate a trained policy in simulation."),
    "dataset-info": ("robotlearn.scripts.dataset_info", "Print a dataset's summary and validate its files."),
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: robotlearn <command> [flags]   (robotlearn <command> --help for its flags)", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {desc}" for name, (_, desc) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"robotlearn: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    result = module.main(rest)
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
