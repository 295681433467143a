"""`robotlearn dataset <operation> [flags]`: dispatches to `robotlearn.scripts.dataset_ops.<op>.main`.

Each operation is a `Command` in SUBCOMMANDS whose module defines `CONFIG` (its flags) and
`main(argv) -> int`, which parses flags, calls one function of `robotlearn.datasets.tools` and prints.
A robotlearn error prints one line `robotlearn dataset <operation>: <message>` and exits with 2
(`--debug` or ROBOTLEARN_DEBUG=1 shows the traceback).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from robotlearn.scripts.cli import Command, debug_requested, run_command


def _op(name: str, help: str, reads=("dataset",), example=()) -> Command:
    return Command(f"robotlearn.scripts.dataset_ops.{name}", help, reads=reads, example=example)


SUBCOMMANDS: dict[str, Command] = {
    "info": Command(
        "robotlearn.scripts.dataset_info",
        "Print a dataset's summary (also `robotlearn dataset-info`).",
        reads=("dataset",),
    ),
    "validate": _op(
        "validate", "Check every file, pointer and timestamp (--deep decodes every frame; --repair fixes)."
    ),
    "delete-episodes": _op(
        "delete_episodes",
        "Write a copy without some episodes (no re-encoding).",
        example=("--episodes=0", "--output=out"),
    ),
    "split": _op(
        "split",
        "Split into several datasets by fractions or episode lists (no re-encoding).",
        example=("--fractions=a=0.5,b=0.5", "--output=out"),
    ),
    "merge": _op(
        "merge",
        "Merge datasets with the same fps, features, codec and robot (no re-encoding).",
        example=("--output=out",),
    ),
    "remove-feature": _op(
        "remove_feature",
        "Write a copy without some features (a camera or columns).",
        example=("--features=action", "--output=out"),
    ),
    "rename-feature": _op(
        "rename_feature",
        "Rename features (columns, video folders, stats).",
        example=("--rename=action=act", "--output=out"),
    ),
    "edit-tasks": _op(
        "edit_tasks", "Rename task strings or set the task of episodes.", example=("--rename=a=b", "--output=out")
    ),
    "recompute-stats": _op(
        "recompute_stats",
        "Recompute per-episode and global statistics from the data and frames.",
        example=("--output=out",),
    ),
    "reencode": _op(
        "reencode", "Re-encode camera videos (codec, crf, g, preset, resolution).", example=("--output=out",)
    ),
    "images-to-video": _op(
        "images_to_video", "Turn image features (PNG in Parquet) into MP4 video features.", example=("--output=out",)
    ),
    "view": _op(
        "view", "Look at a dataset: an HTML viewer folder that opens from file:// (--rerun=out.rrd: a rerun recording)."
    ),
    "convert": _op(
        "convert", "Convert a LeRobotDataset v2.1 folder to v3.0 (no re-encoding).", example=("--output=out",)
    ),
}

DESCRIPTION = "usage: robotlearn dataset <operation> [flags]   (robotlearn dataset <operation> --help for its flags)"


@dataclass
class DatasetCommandConfig:
    """`robotlearn dataset`: the first argument names the operation; it takes no flags of its own."""


CONFIG = DatasetCommandConfig


def usage() -> str:
    width = max(len(n) for n in SUBCOMMANDS)
    lines = [DESCRIPTION, "", "operations:"]
    lines += [f"  {name.ljust(width)}  {cmd.help}" for name, cmd in SUBCOMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    from robotlearn.configs import ConfigError

    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    op, rest = argv[0], argv[1:]
    if op.startswith("-"):  # flags before any operation: only --help exists at this level
        from robotlearn.configs import parse_config

        parse_config(DatasetCommandConfig, argv, prog="robotlearn dataset", description=usage())
        raise ConfigError("an operation is required first (robotlearn dataset --help lists them)")
    if op not in SUBCOMMANDS:
        import difflib

        close = difflib.get_close_matches(op, list(SUBCOMMANDS), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"unknown operation {op!r}{hint} (robotlearn dataset --help lists them)")
    return run_command(f"robotlearn dataset {op}", SUBCOMMANDS[op], rest, debug_requested(sys.argv))
