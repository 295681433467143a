"""`robotlearn dataset edit-tasks`: rename task strings, or set the task of some episodes.

robotlearn dataset edit-tasks --root=data/pusht --rename='push the T=push the T block' --output=data/pusht2
robotlearn dataset edit-tasks --root=data/pusht --set_task='push left' --episodes=3-5 --output=data/pusht3
"""

from __future__ import annotations

from dataclasses import dataclass

from robotlearn.configs import ConfigError, parse_config
from robotlearn.datasets.tools.tasks import edit_tasks
from robotlearn.scripts.dataset_ops._common import DatasetEditConfig, print_result, require_root, show_progress


@dataclass
class EditTasksConfig(DatasetEditConfig):
    """`robotlearn dataset edit-tasks`."""

    rename: str = ""
    """old text=new text pairs, comma-separated."""
    set_task: str | None = None
    """New task for the episodes given by --episodes (all episodes without it)."""
    episodes: str = ""
    """Episodes whose task --set_task replaces, e.g. 3,7-9."""


CONFIG = EditTasksConfig


def _pairs(text: str, flag: str) -> dict[str, str]:
    out = {}
    for part in [p for p in text.split(",") if p.strip()]:
        old, sep, new = part.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise ConfigError(f"{flag}: cannot parse {part!r}; use old=new,...")
        out[old.strip()] = new.strip()
    return out


def main(argv: list[str]) -> int:
    args = parse_config(EditTasksConfig, argv, prog="robotlearn dataset edit-tasks", description=__doc__)
    require_root(args)
    progress = show_progress(args)
    result = edit_tasks(
        args.root,
        rename=_pairs(args.rename, "--rename"),
        set_task=args.set_task,
        episodes=args.episodes or None,
        output=args.output or None,
        in_place=args.in_place,
        dry_run=args.dry_run,
        progress=progress,
    )
    print_result(result, args.json)
    return 0
