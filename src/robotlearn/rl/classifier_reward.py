"""A reward classifier as a task's only reward (`rl-actor --reward_classifier=DIR`), for any env with cameras.

HIL-SERL learns from a success classifier instead of a hand-written reward. `ClassifierRewardEnv` wraps
an env: after each step the classifier (robotlearn train-reward-classifier) looks at the new
observation's cameras; the reward becomes 1.0 when it sees success, else 0.0, and the episode ends
then (`terminate=True`). The env's own reward is kept in `info["env_reward"]` for measurement only,
and `info["is_success"]` stays the env's, so reported success rates are the task's real ones, not the
classifier's opinion. Give the env no success termination of its own (e.g.
`--env.terminate_on_success=false`), or its ending episodes would tell the learner what the
classifier is meant to.

    env = ClassifierRewardEnv(make_env("reach", max_steps=40, terminate_on_success=False), "outputs/reward/reach")

`reward_by_classifier(buffer, dir)` does the same to transitions already in a replay buffer (demos:
`rl-learner --demo_reward_classifier`), so that demos and online steps are rewarded alike.
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


def reward_by_classifier(buffer, classifier_dir: str, terminate: bool = True, batch: int = 256) -> int:
    """Replace the rewards of every transition in `buffer` (a ReplayBuffer) by the classifier's verdict
    on its next observation (the following slot), ending the transition there when it sees success
    (`terminate`). Returns the number of transitions it rewarded."""
    from robotlearn.rl.reward_classifier import RewardClassifier

    classifier = RewardClassifier.from_pretrained(classifier_dir)
    missing = [k for k in classifier.config.image_keys if k not in buffer.obs]
    if missing:
        raise ConfigError(f"{classifier_dir} looks at {missing}; the demos have {sorted(buffer.obs)}")
    slots = torch.nonzero(buffer.valid).flatten()
    for start in range(0, len(slots), batch):
        idx = slots[start : start + batch]
        following = (idx + 1) % buffer.capacity
        reward = classifier.reward({k: buffer.obs[k][following] for k in classifier.config.image_keys})
        buffer.reward[idx] = reward
        if terminate:
            buffer.done[idx] |= reward > 0
    return int((buffer.reward[slots] > 0).sum())
