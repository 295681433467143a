"""`robotlearn dataset split`: several datasets from one (no re-encoding).

    robotlearn dataset split --root=data/pusht --fractions=train=0.8,val=0.2 --output=data/pusht_splits
    robotlearn dataset split --root=data/pusht --episodes='{"train": "0-39", "val": "40-49"}' --output=data/splits

Writes <output>/<split name> for each split.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from robotlearn.configs import ConfigError, parse_config
from robotlearn.datasets.tools.split import split_dataset
from robotlearn.scripts.dataset_ops._common import print_result, show_progress


@dataclass
class SplitConfig:
    """`robotlearn dataset split`."""

    root: str = ""
    """Dataset folder to read."""
    fractions: str = ""
    """Fractions of the episodes per split, in order: name=fraction,... (e.g. train=0.8,val=0.2)."""
    episodes: str = ""
    """Episode lists per split as JSON, e.g. {"train": "0-39", "val": [40, 41]} (instead of --fractions)."""
    output: str = ""
    """Folder that receives one dataset folder per split."""
    compact: bool = False
    """Re-encode (only) the episodes whose video does not start on a key frame, instead of refusing them."""
    dry_run: bool = False
    """Say what would be written; write nothing."""
    json: bool = False
    """Print the result as JSON."""


CONFIG = SplitConfig


def _fractions(text: str) -> dict[str, float] | None:
    if not text:
        return None
    out = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ConfigError(
                f"--fractions: cannot parse {part!r}; use name=fraction,... e.g. train=0.8,val=0.2"
            ) from None
        if not sep or not name.strip():
            raise ConfigError(f"--fractions: cannot parse {part!r}; use name=fraction,... e.g. train=0.8,val=0.2")
    return out


def main(argv: list[str]) -> int:
    args = parse_config(SplitConfig, argv, prog="robotlearn dataset split", description=__doc__)
    if not args.root:
        raise ConfigError("--root is required: the dataset folder")
    episodes = None
    if args.episodes:
        try:
            episodes = json.loads(args.episodes)
        except json.JSONDecodeError as e:
            raise ConfigError(f'--episodes must be JSON like {{"train": "0-9", "val": [10]}}: {e}') from None
        if not isinstance(episodes, dict):
            raise ConfigError("--episodes must be a JSON object {split name: episodes}")
    if not args.output:
        from robotlearn.datasets.tools.build import open_metadata

        open_metadata(args.root)  # a missing dataset is the first thing to report
        raise ConfigError("--output is required: the folder that receives one dataset per split")
    result = split_dataset(
        args.root,
        args.output,
        fractions=_fractions(args.fractions),
        episodes=episodes,
        dry_run=args.dry_run,
        compact=args.compact,
        progress=show_progress(args),
    )
    print_result(result, args.json)
    return 0
