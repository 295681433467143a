"""`robotlearn dataset validate`: check a dataset (the doctor); `--repair` fixes what a crash leaves.

    robotlearn dataset validate --root=data/pusht [--deep] [--json] [--repair [--dry_run]]

Exits 0 when the dataset is intact (after repair, with --repair), 1 when problems remain, 2 on bad input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from robotlearn.configs import ConfigError, parse_config
from robotlearn.datasets.tools.repair import repair
from robotlearn.datasets.tools.validate import validate
from robotlearn.scripts.dataset_ops._common import show_progress


@dataclass
class ValidateConfig:
    """`robotlearn dataset validate`: check every rule of the format."""

    root: str = ""
    """Dataset folder (holding meta/info.json), or a URL (http(s)://, s3://, hf://) for a shallow remote check."""
    deep: bool = False
    """Also read every column and decode every video frame (slower)."""
    json: bool = False
    """Print the report as JSON."""
    repair: bool = False
    """Fix what a crash or an interrupted copy leaves (orphan files, totals, torn tails, stats), then re-check."""
    dry_run: bool = False
    """With --repair: say what would be fixed, change nothing."""


CONFIG = ValidateConfig


def main(argv: list[str]) -> int:
    args = parse_config(ValidateConfig, argv, prog="robotlearn dataset validate", description=__doc__)
    if not args.root:
        raise ConfigError("--root is required: the dataset folder (holding meta/info.json)")
    if args.repair:
        result, report = repair(args.root, dry_run=args.dry_run)
        if args.json:
            print(json.dumps({**result.to_dict(), "report": report.to_dict()}, indent=2))
        else:
            for line in result.lines:
                print(("[dry run] " if args.dry_run else "") + line)
            print("OK" if report.ok else f"{len(report.problems)} problem(s) remain")
        return 0 if report.ok else 1
    report = validate(args.root, deep=args.deep, progress=show_progress(args))
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        checked = ", ".join(f"{v} {k}" for k, v in report.checked.items())
        print(f"{report.root}: " + ("OK" if report.ok else f"{len(report.problems)} problem(s)") + f" ({checked})")
        for line in report.lines():
            print(f"  - {line}")
    return 0 if report.ok else 1
