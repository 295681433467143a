"""The quickstart pipeline: record -> train -> evaluate -> HTML report (see pipeline.py)."""

from robotlearn.quickstart.pipeline import prepare_output_dir, quickstart
from robotlearn.quickstart.plan import MARKER, Plan, QuickstartConfig, make_plan, small_policy_defaults

__all__ = [
    "MARKER",
    "Plan",
    "QuickstartConfig",
    "make_plan",
    "prepare_output_dir",
    "quickstart",
    "small_policy_defaults",
]
