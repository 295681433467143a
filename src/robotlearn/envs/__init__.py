"""Simulated environments (gymnasium-style) shared by recording and policy evaluation.

    from robotlearn.envs import ENVS, make_env
    env = make_env("pusht", max_steps=300)                 # or make_env(PushTEnvConfig(image_size=64))

`--env.type=NAME` looks NAME up in `ENVS` (the module is imported only then). Plugins add
environments through the `robotlearn.envs` entry-point group.
"""

from __future__ import annotations

from typing import Any

from robotlearn.envs.configs import (
    EnvConfig,
    GymEnvConfig,
    GymHilEnvConfig,
    LangPushTEnvConfig,
    MetaWorldEnvConfig,
    PushTEnvConfig,
    ReachEnvConfig,
)
from robotlearn.envs.pusht import (
    ACTION_KEY,
    ENV_STATE_KEY,
    OBS_IMAGE_KEY,
    OBS_STATE_KEY,
    PushTEnv,
    pusht_dataset_features,
    pusht_env_state_feature,
)
from robotlearn.utils.registry import Registry

ENVS = Registry(
    "env",
    {
        "pusht": "robotlearn.envs.pusht:PushTEnv",
        "gym": "robotlearn.envs.gym_env:GymEnv",
        "gym_hil": "robotlearn.envs.gym_hil:GymHilEnv",
        "lang_pusht": "robotlearn.envs.lang_pusht:LangPushTEnv",
        "metaworld": "robotlearn.envs.meta_world:MetaWorldEnv",
        "reach": "robotlearn.envs.reach:ReachEnv",
        # a robot as an RL task: it needs robots/ (layer 4), so it lives in rl/ and is named here only
        "robot": "robotlearn.rl.robot_env:RobotEnv",
    },
    entry_point_group="robotlearn.envs",
    extras={
        "pusht": "sim",
        "gym": "sim",
        "gym_hil": "hil",
        "lang_pusht": "sim",
        "metaworld": "metaworld",
        "reach": "sim",
    },
)


def make_env(config: EnvConfig | str, max_steps: int | None = 300, **options: Any):
    """Builds the environment `config` describes (or the one named `config`, with `options` as its
    config fields); episodes are truncated after `max_steps` steps (None: never).

    Raises UnknownTypeError for an unknown name, ConfigError for an unknown option."""
    if isinstance(config, str):
        from robotlearn.configs import config_from_dict

        config = config_from_dict(EnvConfig, {"type": config, **options}, where="env")
    return ENVS.get(config.type, "--env.type").from_config(config, max_steps=max_steps)


__all__ = [
    "ACTION_KEY",
    "ENVS",
    "ENV_STATE_KEY",
    "EnvConfig",
    "GymEnvConfig",
    "GymHilEnvConfig",
    "LangPushTEnvConfig",
    "MetaWorldEnvConfig",
    "OBS_IMAGE_KEY",
    "OBS_STATE_KEY",
    "PushTEnv",
    "PushTEnvConfig",
    "ReachEnvConfig",
    "make_env",
    "pusht_dataset_features",
    "pusht_env_state_feature",
]
