"""Policies in plain PyTorch: ACT and Diffusion Policy, sharing the `Policy` interface (see policy.py)."""

from robotlearn.policies.factory import POLICIES, make_config, make_policy, make_policy_from_pretrained
from robotlearn.policies.policy import Policy, PolicyConfig, PolicyConfigError

__all__ = ["POLICIES", "Policy", "PolicyConfig", "PolicyConfigError", "make_config", "make_policy",
           "make_policy_from_pretrained"]
