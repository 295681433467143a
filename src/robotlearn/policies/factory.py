"""Policy registry: `POLICIES` maps a name to its (config class, policy class).

    policy = make_policy("diffusion", dataset.meta, down_dims=(64, 128, 256))
    policy = make_policy_from_pretrained("outputs/train/checkpoints/last/pretrained_model")
"""

from __future__ import annotations

import json
from pathlib import Path

from robotlearn.policies.act.config import ACTConfig
from robotlearn.policies.act.model import ACTPolicy
from robotlearn.policies.diffusion.config import DiffusionConfig
from robotlearn.policies.diffusion.model import DiffusionPolicy
from robotlearn.policies.policy import Policy, PolicyConfig, PolicyConfigError, config_from_dict, features_from_dataset

POLICIES: dict[str, tuple[type[PolicyConfig], type[Policy]]] = {
    "act": (ACTConfig, ACTPolicy),
    "diffusion": (DiffusionConfig, DiffusionPolicy),
}


def _lookup(policy_type: str) -> tuple[type[PolicyConfig], type[Policy]]:
    if policy_type not in POLICIES:
        raise PolicyConfigError(f"unknown policy type {policy_type!r}; choose one of {sorted(POLICIES)}")
    return POLICIES[policy_type]


def make_config(policy_type: str, **overrides) -> PolicyConfig:
    """The default config of `policy_type` with `overrides` applied (unknown names raise PolicyConfigError)."""
    config_class, _ = _lookup(policy_type)
    return config_from_dict(config_class, {"type": policy_type, **overrides}, source=f"--policy ({policy_type})")


def make_policy_from_config(config: PolicyConfig, dataset_meta) -> Policy:
    """Builds a fresh policy for `dataset_meta` (a LeRobotDataset's `.meta`): picks its features and
    normalization statistics, and loads the pretrained backbone if the config names one."""
    _, policy_class = _lookup(config.type)
    config.features = features_from_dataset(dataset_meta.features, config.input_features)
    policy = policy_class(config, stats=dataset_meta.stats)
    if config.pretrained_backbone_path:
        # ACT holds its ResNet at policy.backbone, Diffusion inside its observation encoder.
        owner = policy.encoder if hasattr(policy.encoder, "backbone") else policy
        if not hasattr(owner, "backbone"):
            raise PolicyConfigError("--policy.pretrained_backbone_path given but the policy uses no camera")
        owner.backbone.load_pretrained(config.pretrained_backbone_path)
    return policy


def make_policy(policy_type: str, dataset_meta, **overrides) -> Policy:
    """`make_policy("act", ds.meta, chunk_size=10)`: a new, untrained policy for the dataset."""
    return make_policy_from_config(make_config(policy_type, **overrides), dataset_meta)


def make_policy_from_pretrained(path: str | Path, device: str = "cpu") -> Policy:
    """Loads a policy saved with `save_pretrained` (a directory with config.json + model.safetensors).

    A training checkpoint directory (holding `pretrained_model/`) or a training output directory
    (holding `checkpoints/last/`) is accepted too.
    """
    path = Path(path)
    for candidate in (path, path / "pretrained_model", path / "checkpoints" / "last" / "pretrained_model"):
        if (candidate / "config.json").is_file():
            path = candidate
            break
    else:
        raise FileNotFoundError(f"{path}: no config.json here (pass the pretrained_model directory of a checkpoint)")
    policy_type = json.loads((path / "config.json").read_text()).get("type")
    _, policy_class = _lookup(policy_type)
    return policy_class.from_pretrained(path, device=device)
