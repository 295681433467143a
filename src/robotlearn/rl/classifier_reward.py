"""A reward classifier as a task's only reward (`rl-actor --reward_classifier=DIR`), for any env with cameras.

HIL-SERL learns from a success classifier instead of a hand-written reward. `ClassifierRewardEnv` wraps
an env: after each step the classifier (robotlearn train-reward-classifier) looks at the new
observation's cameras; the reward becomes 1.0 when it sees success, else 0.0, and the episode ends
then (`terminate=True`). The env's own reward is kept in `info["env_reward"]` for measurement only, and
`info["is_success"]` stays the env's, so reported success rates are
the task's real ones, not the classifier's opinion. Give the env no success termination of its own
(e.g. `--env.terminate_on_success=false`), or its ending episodes would tell the learner what the
classifier is meant to.

    env = ClassifierRewardEnv(make_env("reach", max_steps=40, terminate_on_success=False), "outputs/reward/reach")
"""

from __future__ import annotations

import numpy as np
import torch

from robotlearn.errors import ConfigError


def classifier_sees_success(classifier, obs: dict) -> bool:
    """Whether `classifier` (a RewardClassifier) sees success in `obs`, whose cameras are (H, W, 3) uint8."""
    images = {
        k: torch.as_tensor(np.ascontiguousarray(np.asarray(obs[k]).transpose(2, 0, 1)))[None]
        for k in classifier.config.image_keys
    }
    return bool(classifier.reward(images)[0] > 0)


class ClassifierRewardEnv:
    """`env` with its reward replaced by the classifier's verdict; see the module docstring."""

    def __init__(self, env, classifier_dir: str, terminate: bool = True):
        from robotlearn.rl.reward_classifier import RewardClassifier

        self.env = env
        self.classifier = RewardClassifier.from_pretrained(classifier_dir)
        self.terminate = terminate
        # the task's observation keys, without stepping it where it can tell them
        keys = list(env.dataset_meta().features) if hasattr(env, "dataset_meta") else list(env.reset()[0])
        missing = [k for k in self.classifier.config.image_keys if k not in keys]
        if missing:
            cameras = [k for k in keys if ".images." in k]
            raise ConfigError(
                f"--reward_classifier={classifier_dir} looks at {missing}; the task's cameras are {cameras}"
            )

    def __getattr__(self, name):  # fps, action_space, dataset_meta, render, hold, ... are the env's
        return getattr(self.env, name)

    def reset(self, *args, **kwargs):
        return self.env.reset(*args, **kwargs)

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        success = classifier_sees_success(self.classifier, obs)
        info = {**info, "env_reward": float(reward), "classifier_success": success}
        terminated = bool(terminated) or (success and self.terminate)
        return obs, float(success), terminated, bool(truncated) and not terminated, info

    def close(self) -> None:
        self.env.close()
