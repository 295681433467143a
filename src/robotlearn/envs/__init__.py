"""Simulated environments (gymnasium-style) shared by recording and policy evaluation."""

from robotlearn.envs.pusht import (
    ACTION_KEY,
    ENV_STATE_KEY,
    OBS_IMAGE_KEY,
    OBS_STATE_KEY,
    PushTEnv,
    pusht_dataset_features,
    pusht_env_state_feature,
)

__all__ = [
    "ACTION_KEY",
    "ENV_STATE_KEY",
    "OBS_IMAGE_KEY",
    "OBS_STATE_KEY",
    "PushTEnv",
    "pusht_dataset_features",
    "pusht_env_state_feature",
]
