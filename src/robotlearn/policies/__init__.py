"""Policies in plain PyTorch: ACT and Diffusion Policy, sharing the `Policy` interface (see policy.py)."""

from robotlearn.policies.factory import (
    POLICIES,
    find_pretrained,
    make_config,
    make_policy,
    make_policy_from_config,
    make_policy_from_pretrained,
)
from robotlearn.policies.policy import Policy, PolicyConfig, PolicyConfigError, PolicyNotFoundError

__all__ = [
    "POLICIES",
    "Policy",
    "PolicyConfig",
    "PolicyConfigError",
    "PolicyNotFoundError",
    "find_pretrained",
    "make_config",
    "make_policy",
    "make_policy_from_config",
    "make_policy_from_pretrained",
]
