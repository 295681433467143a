"""Regenerates the golden outputs in tests/fixtures/golden/ at the current code.

    .venv/bin/python -m tests.golden.regenerate                 # everything (about a minute)
    .venv/bin/python -m tests.golden.regenerate policies        # ACT/Diffusion goldens only
    .venv/bin/python -m tests.golden.regenerate quickstart      # the short quickstart runs only

Run it from the repository root, only when an output is meant to change, and say why in the commit.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from tests.golden import policies, quickstart


def main(argv: list[str]) -> int:
    parts = argv or ["policies", "quickstart"]
    unknown = sorted(set(parts) - {"policies", "quickstart"})
    if unknown:
        print(f"unknown part(s) {unknown}: choose from policies, quickstart", file=sys.stderr)
        return 2
    if "policies" in parts:
        for case in policies.CASES:
            policies.regenerate(case)
            print(f"wrote {policies.golden_path(case)}")
    if "quickstart" in parts:
        with tempfile.TemporaryDirectory(prefix="robotlearn-golden-") as tmp:
            for policy_type in quickstart.CASES:
                quickstart.regenerate(policy_type, Path(tmp))
                print("wrote", *quickstart.golden_paths(policy_type))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
