"""`robotlearn demo` (what `make demo` runs): the quickstart with its defaults on simulated PushT.

Records scripted-expert demonstrations, trains a policy, evaluates it next to the expert and
writes outputs/quickstart/report.html. Re-running replaces the previous demo's output folder
(only a folder the quickstart made). Accepts every `robotlearn quickstart` flag.
"""

from __future__ import annotations

from robotlearn.quickstart import QuickstartConfig, quickstart
from robotlearn.scripts.quickstart import parse_args

CONFIG = QuickstartConfig


def main(argv: list[str]) -> int:
    quickstart(parse_args(["--overwrite", *argv], prog="robotlearn demo"))
    return 0
