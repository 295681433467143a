"""A reward classifier as the only reward: ClassifierRewardEnv gives 1 and ends the episode where the
classifier sees success, 0 elsewhere, keeps the task's own reward and success aside; the actor runs
with it (`--reward_classifier`) and at its `--fps`."""

import threading
import time

import numpy as np
import pytest
import torch

from robotlearn.envs import ReachEnvConfig, make_env
from robotlearn.errors import ConfigError
from robotlearn.rl.classifier_reward import ClassifierRewardEnv
from robotlearn.rl.reward_classifier import RewardClassifier, RewardClassifierConfig


def saved_classifier(directory, verdict: bool, image_keys=("observation.images.top",)) -> str:
    """A classifier that sees success everywhere (verdict True) or nowhere: its last bias dominates."""
    model = RewardClassifier(RewardClassifierConfig(image_keys=list(image_keys), channels=[4, 4, 4, 4], hidden=4))
    with torch.no_grad():
        for p in model.head.parameters():
            p.zero_()
        model.head[-1].bias.fill_(50.0 if verdict else -50.0)
    model.save_pretrained(directory)
    return str(directory)


def test_the_classifier_verdict_replaces_the_reward_and_ends_the_episode(tmp_path):
    task = make_env("reach", max_steps=30, terminate_on_success=False)
    env = ClassifierRewardEnv(task, saved_classifier(tmp_path / "yes", True))
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step(np.zeros(2))
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info["classifier_success"] and not info["is_success"]  # the task's own success is kept
    assert info["env_reward"] == pytest.approx(-info["distance"])
    # --classifier_ends_episode=false: the success is rewarded at every step and the episode goes on
    lasting = ClassifierRewardEnv(
        make_env("reach", max_steps=3, terminate_on_success=False), str(tmp_path / "yes"), False
    )
    lasting.reset(seed=0)
    steps = [lasting.step(np.zeros(2))[1:4] for _ in range(3)]
    assert steps == [(1.0, False, False), (1.0, False, False), (1.0, False, True)]

    env = ClassifierRewardEnv(
        make_env("reach", max_steps=5, terminate_on_success=False), saved_classifier(tmp_path / "no", False)
    )
    env.reset(seed=0)
    rewards, truncated = [], False
    while not truncated:
        _, reward, terminated, truncated, _ = env.step(np.zeros(2))
        assert not terminated
        rewards.append(reward)
    assert rewards == [0.0] * 5
    assert env.fps == task.fps and env.action_space == task.action_space  # the rest is the task's


def test_a_classifier_of_other_cameras_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="observation.images.wrist"):
        ClassifierRewardEnv(make_env("reach"), saved_classifier(tmp_path, True, ["observation.images.wrist"]))


def test_the_actor_learns_from_the_classifier_reward_at_its_fps(tmp_path):
    from robotlearn.policies.sac.config import SACConfig
    from robotlearn.rl.actor import Actor, ActorConfig
    from robotlearn.rl.learner import Learner, LearnerConfig

    env = ReachEnvConfig(image_size=16, terminate_on_success=False)
    learner = Learner(
        LearnerConfig(
            env=env,
            policy=SACConfig(encoder_channels=4, hidden_dims=[8]),
            output_dir=str(tmp_path / "rl"),
            port=0,
            learning_starts=100,
            max_transitions=10,
        ),
        token=b"",
    ).start()
    thread = threading.Thread(target=learner.run)
    thread.start()
    try:
        actor = ActorConfig(
            env=env,
            learner=learner.address,
            steps=10,
            max_episode_steps=20,
            fps=20,
            reward_classifier=saved_classifier(tmp_path / "yes", True),
        )
        t0 = time.monotonic()
        result = Actor(actor, token=b"").run()
        elapsed = time.monotonic() - t0
        thread.join(180)  # generous: under a loaded make test the learner can take over a minute
    finally:
        learner.stop()
    assert elapsed >= 9 / 20  # 10 steps at 20 per second: at least 9 intervals
    # the classifier saw success after every step: 10 one-step episodes, each rewarded 1 and terminated
    assert result["episodes"] == 10 and result["returns"] == [1.0] * 10
    buffer = learner.online
    valid = buffer.valid
    assert int(valid.sum()) == 10
    assert torch.equal(buffer.reward[valid], torch.ones(10)) and bool(buffer.done[valid].all())


def test_demos_are_rewarded_by_the_classifier_on_their_next_frames(tmp_path):
    from robotlearn.rl.buffer import ReplayBuffer
    from robotlearn.rl.classifier_reward import reward_by_classifier

    image = {"observation.images.top": {"dtype": "video", "shape": [3, 8, 8]}}
    buffer = ReplayBuffer(image, action_dim=2, capacity=16)
    frames = [np.full((3, 8, 8), v, np.uint8) for v in (0, 0, 255, 0)]  # the third frame is bright
    for t in range(3):
        buffer.add(
            {"observation.images.top": frames[t]},
            np.zeros(2, np.float32),
            5.0,  # the recorded reward, to be replaced
            False,
            t == 2,
            {"observation.images.top": frames[t + 1]},
        )
    # a classifier that sees success exactly in bright pictures: mean brightness above 0.5
    model = RewardClassifier(RewardClassifierConfig(channels=[1, 1, 1, 1], hidden=1))
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        for conv in [m for m in model.encoders["observation_images_top"] if isinstance(m, torch.nn.Conv2d)]:
            conv.weight[:, :, 1, 1] = 1.0 / conv.weight.shape[1]  # pass the mean through every layer
        model.encoders["observation_images_top"][0].bias.fill_(0.5)  # undo the -0.5 centring
        model.head[0].weight.fill_(1.0)
        model.head[2].weight.fill_(100.0)
        model.head[2].bias.fill_(-50.0)
    model.save_pretrained(tmp_path / "bright")
    assert reward_by_classifier(buffer, str(tmp_path / "bright")) == 1
    valid = torch.nonzero(buffer.valid).flatten()
    # transition 1 leads to the bright frame: rewarded and ended; the others get 0, not their 5.0
    assert buffer.reward[valid].tolist() == [0.0, 1.0, 0.0]
    assert buffer.done[valid].tolist() == [False, True, False]


def test_a_state_policy_is_rewarded_by_the_camera_and_its_dataset_keeps_the_camera(tmp_path):
    """HIL-SERL's usual split: the policy acts on state, the classifier looks at the camera; the
    actor's dataset records the camera too (for the next classifier), the learner gets only state."""
    from robotlearn.datasets import LeRobotDataset
    from robotlearn.policies.sac.config import SACConfig
    from robotlearn.rl.actor import Actor, ActorConfig, ActorDatasetConfig
    from robotlearn.rl.learner import Learner, LearnerConfig
    from robotlearn.rl.streams import StepLog

    env = ReachEnvConfig(image_size=16, terminate_on_success=False, with_state=True)
    policy = SACConfig(hidden_dims=[8], input_features=["observation.state"])
    cfg = LearnerConfig(env=env, policy=policy, output_dir=str(tmp_path / "rl"), port=0, learning_starts=10**9)
    learner = Learner(cfg, token=b"").start()
    try:
        actor = ActorConfig(
            env=env,
            learner=learner.address,
            steps=12,
            max_episode_steps=6,
            reward_classifier=saved_classifier(tmp_path / "no", False),
            dataset=ActorDatasetConfig(root=str(tmp_path / "ds")),
        )
        result = Actor(actor, token=b"").run()
    finally:
        learner.stop()
    assert result["episodes"] == 2 and result["returns"] == [0.0, 0.0]
    sent = [m["steps"] for _, m in StepLog(tmp_path / "rl" / "steps").replay()]
    assert all("observation.images.top" not in s for s in sent) and sum(len(s["action"]) for s in sent) == 12
    ds = LeRobotDataset("local/rl_run", root=tmp_path / "ds")
    assert len(ds) == 12 and ds.meta.features["observation.images.top"]["dtype"] == "video"
    # each recorded frame is the picture of its recorded state: the point drawn where the state puts it
    replay = make_env("reach", image_size=16, with_state=True)
    for i in (0, 5, 6, 11):
        item = ds[i]
        replay.point, replay.goal = (
            item["observation.state"][:2].double().numpy(),
            item["observation.state"][2:].double().numpy(),
        )
        picture = torch.as_tensor(replay._draw(16)).permute(2, 0, 1).float() / 255
        assert (item["observation.images.top"] - picture).abs().mean() < 0.05  # video-coded, nearly exact
