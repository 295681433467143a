"""`robotlearn quickstart`: from nothing to a trained, evaluated PushT policy and an HTML report.

    robotlearn quickstart                               # defaults: about 20 min on 2 CPU cores
    robotlearn quickstart --episodes=20 --steps=2000 --output_dir=outputs/qs_small
    robotlearn quickstart --policy.type=diffusion --policy.down_dims=[64,128,256]

Records scripted-expert demonstrations, trains a small state-based policy (CPU-sized defaults for
--policy.type=act or diffusion; any --policy.<name> flag overrides them), evaluates it next to the
expert on the same seeds and writes <output_dir>/report.html. See docs/quickstart.md.
"""

from __future__ import annotations

from robotlearn.configs import parse_config
from robotlearn.quickstart import QuickstartConfig, quickstart, small_policy_defaults
from robotlearn.quickstart.plan import DEFAULT_POLICY

CONFIG = QuickstartConfig


def policy_type(argv: list[str]) -> str:
    """The --policy.type given on the command line (default act)."""
    for i, arg in enumerate(argv):
        if arg.startswith("--policy.type="):
            return arg.split("=", 1)[1]
        if arg == "--policy.type" and i + 1 < len(argv):
            return argv[i + 1]
    return DEFAULT_POLICY


def parse_args(argv: list[str], prog: str = "robotlearn quickstart") -> QuickstartConfig:
    """Flags -> QuickstartConfig; the chosen policy starts from the quickstart's CPU-sized settings."""
    defaults = {"policy": small_policy_defaults(policy_type(argv))}
    return parse_config(QuickstartConfig, argv, prog=prog, description=__doc__, defaults=defaults)


def main(argv: list[str]) -> int:
    quickstart(parse_args(argv))
    return 0
