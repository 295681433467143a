"""Printing what a dataset tool did, for people or (--json) for scripts."""

from __future__ import annotations

import json


def print_result(result, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_dict(), indent=2, default=str))
        return
    prefix = "[dry run] " if result.dry_run else ""
    for line in result.lines:
        print(prefix + line)
