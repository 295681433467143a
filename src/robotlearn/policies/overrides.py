"""Inference-only settings of a trained policy that may change without retraining."""

from __future__ import annotations

import dataclasses

from robotlearn.policies.policy import PolicyConfigError

# Config fields that only change how a trained policy acts, not its weights.
INFERENCE_SETTINGS = ("n_action_steps", "temporal_ensemble_coeff", "num_inference_steps")


def apply_inference_overrides(policy, overrides: dict) -> None:
    """Changes inference-only settings of a loaded policy, validated like the config itself.

    Raises PolicyConfigError for a setting that is not inference-only for this policy, or an
    invalid combination (e.g. n_action_steps > chunk_size); nothing changes then."""
    config = policy.config
    for key in overrides:
        if key not in INFERENCE_SETTINGS or not hasattr(config, key):
            allowed = [k for k in INFERENCE_SETTINGS if hasattr(config, k)]
            raise PolicyConfigError(
                f"--policy.overrides: {key!r} cannot be changed at evaluation for a {config.type} "
                f"policy; allowed: {allowed}"
            )
    try:
        dataclasses.replace(config, **overrides)  # validates the combination before anything changes
    except ValueError as e:
        raise PolicyConfigError(f"--policy.overrides={overrides}: {e}") from None
    for key, value in overrides.items():
        setattr(config, key, value)
    policy.reset()
