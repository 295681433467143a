"""`robotlearn dataset-info`: summarize a dataset and check that every file it references is readable.

    robotlearn dataset-info --root=path/to/dataset [--validate=true] [--json=false]

Exits 0 when the dataset is intact, 1 when validation found problems (listed), 2 on bad input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from robotlearn.configs import ConfigError, parse_config
from robotlearn.datasets.info import summarize, validate


@dataclass
class DatasetInfoConfig:
    """`robotlearn dataset-info`: summarize and validate a dataset."""

    root: str = ""
    """Dataset folder (holding meta/info.json)."""
    repo_id: str = "local/dataset"
    """Dataset name, used only for display."""
    validate: bool = True
    """Read every data file and one frame of every episode and camera."""
    json: bool = False
    """Print the summary as JSON."""


CONFIG = DatasetInfoConfig


def main(argv: list[str]) -> int:
    args = parse_config(DatasetInfoConfig, argv, prog="robotlearn dataset-info", description=__doc__)
    if not args.root:
        raise ConfigError("--root is required: the dataset folder (holding meta/info.json)")
    summary = summarize(args.root, args.repo_id)
    problems = validate(args.root, args.repo_id) if args.validate else []
    if args.json:
        print(json.dumps({**summary, "problems": problems}, indent=2))
    else:
        for key, value in summary.items():
            print(f"{key:>16}: {value}")
        if args.validate:
            print(f"{'validation':>16}: " + ("OK" if not problems else f"{len(problems)} problem(s)"))
            for p in problems:
                print(f"  - {p}")
    return 1 if problems else 0
