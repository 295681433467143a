"""Policy registry: `POLICIES` maps a name to its policy class ("module:Class", imported on lookup).

    policy = make_policy("diffusion", dataset.meta, down_dims=(64, 128, 256))
    policy = make_policy_from_pretrained("outputs/train/checkpoints/last/pretrained_model")

Each policy class has `config_class`; `--policy.type=NAME` selects NAME's config. Plugins add
policies through the `robotlearn.policies` entry-point group.
"""

from __future__ import annotations

import json
from pathlib import Path

from robotlearn.policies.policy import (
    ACTION_KEY,
    Policy,
    PolicyConfig,
    PolicyConfigError,
    PolicyNotFoundError,
    config_from_dict,
    features_from_dataset,
)
from robotlearn.utils.registry import Registry

POLICIES = Registry(
    "policy",
    {
        "act": "robotlearn.policies.act.model:ACTPolicy",
        "diffusion": "robotlearn.policies.diffusion.model:DiffusionPolicy",
        "sac": "robotlearn.policies.sac.model:SACPolicy",
        "vla": "robotlearn.policies.vla.model:VLAPolicy",
    },
    entry_point_group="robotlearn.policies",
)


def make_config(policy_type: str, **overrides) -> PolicyConfig:
    """The default config of `policy_type` with `overrides` applied (unknown names raise ConfigError)."""
    config_class = POLICIES.config_class(policy_type, "--policy.type")
    return config_from_dict(config_class, {"type": policy_type, **overrides}, source="--policy")


def make_policy_from_config(config: PolicyConfig, dataset_meta) -> Policy:
    """Builds a fresh policy for `dataset_meta` (a LeRobotDataset's `.meta`): picks its features and
    normalization statistics, and loads the pretrained backbone if the config names one."""
    policy_class = POLICIES.get(config.type, "--policy.type")
    config.features = features_from_dataset(dataset_meta.features, config.input_features)
    if hasattr(config, "instructions") and not config.instructions:
        # a language-conditioned policy builds its vocabulary from the dataset's task strings
        config.instructions = list(getattr(dataset_meta, "tasks", None) or [])
    stats = dataset_meta.stats
    if config.relative_actions:
        # The action is learned relative to the current state: its statistics are those of
        # action[t + k] - state[t] over the offsets k of the policy's action window.
        from robotlearn.policies.normalize import relative_action_stats

        window = policy_class(config, stats=stats).delta_timestamps(dataset_meta.fps)[ACTION_KEY]
        offsets = sorted({round(dt * dataset_meta.fps) for dt in window})
        stats = {**stats, ACTION_KEY: relative_action_stats(dataset_meta.root, offsets)}
    policy = policy_class(config, stats=stats)
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


def find_pretrained(path: str | Path) -> Path:
    """The pretrained_model directory at or under `path` (a checkpoint or a training output directory
    is accepted too). Raises PolicyNotFoundError naming what was looked for."""
    path = Path(path)
    for candidate in (path, path / "pretrained_model", path / "checkpoints" / "last" / "pretrained_model"):
        if (candidate / "config.json").is_file():
            return candidate
    what = "does not exist" if not path.exists() else "holds no config.json"
    raise PolicyNotFoundError(
        f"--policy.path={path} {what}: pass the pretrained_model directory of a checkpoint "
        "(e.g. outputs/train/checkpoints/last/pretrained_model)"
    )


def make_policy_from_pretrained(path: str | Path, device: str = "cpu") -> Policy:
    """Loads a policy saved with `save_pretrained` (a directory with config.json + model.safetensors).

    A training checkpoint directory (holding `pretrained_model/`) or a training output directory
    (holding `checkpoints/last/`) is accepted too.
    """
    path = find_pretrained(path)
    try:
        policy_type = json.loads((path / "config.json").read_text()).get("type")
    except (json.JSONDecodeError, AttributeError) as e:
        raise PolicyConfigError(f"{path / 'config.json'}: not a policy config ({e})") from None
    return POLICIES.get(policy_type, f"{path / 'config.json'}: type").from_pretrained(path, device=device)
