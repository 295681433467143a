"""DAgger (`robotlearn.training.dagger`): expert-labelled policy rollouts appended to a copy of the demos."""

import json

import numpy as np
import pytest

pytest.importorskip("gym_pusht")

from robotlearn.configs import config_from_dict
from robotlearn.datasets import LeRobotDataset
from robotlearn.datasets.tools.validate import validate
from robotlearn.envs.pusht import ENV_STATE_KEY, PushTEnv, pusht_dataset_features, pusht_env_state_feature
from robotlearn.envs.pusht_expert import PushTExpert, PushTExpertConfig
from robotlearn.policies import PolicyConfig
from robotlearn.training import DatasetConfig, TrainConfig
from robotlearn.training.dagger import DaggerConfig, ShadowExpert, dagger

EXPERT = PushTExpertConfig(max_target_distance=30.0)
TINY_ACT = {
    "type": "act",
    "input_features": ["observation.state", ENV_STATE_KEY],
    "dim_model": 16,
    "n_heads": 2,
    "dim_feedforward": 32,
    "n_encoder_layers": 1,
    "use_vae": False,
    "dropout": 0.0,
    "chunk_size": 4,
    "n_action_steps": 2,
}


def expert_actions(seed: int, n: int) -> np.ndarray:
    """The expert's first n targets from reset seed `seed`, driving the env itself."""
    env, expert = PushTEnv(max_steps=None), PushTExpert(EXPERT)
    env.reset(seed=seed)
    actions = []
    for _ in range(n):
        actions.append(np.asarray(expert.act_env(env), np.float32))
        env.step(actions[-1])
    env.close()
    return np.array(actions)


def make_demos(root, seeds=(0, 1), frames=8):
    """A tiny PushT demonstration dataset: the expert's first `frames` steps from each seed."""
    features = {
        **pusht_dataset_features(use_video=False),
        **pusht_env_state_feature(),
        "observation.capture_time": {"dtype": "float32", "shape": (1,), "names": None},
    }
    ds = LeRobotDataset.create("local/demos", fps=10, root=root, features=features, use_videos=False)
    env, expert = PushTEnv(max_steps=None), PushTExpert(EXPERT)
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        expert.reset()
        for i in range(frames):
            action = np.asarray(expert.act_env(env), np.float32)
            ds.add_frame(
                {
                    **obs,
                    ENV_STATE_KEY: env.get_state().astype(np.float32),
                    "observation.capture_time": np.array([i / 10], np.float32),
                    "action": action,
                    "task": "push the T",
                }
            )
            obs, *_ = env.step(action)
        ds.save_episode()
    ds.finalize()
    env.close()


def test_dagger_appends_expert_labelled_rollouts_to_a_valid_copy_of_the_demos(tmp_path):
    make_demos(tmp_path / "demos")
    train = TrainConfig(
        dataset=DatasetConfig(repo_id="local/demos", root=str(tmp_path / "demos")),
        policy=config_from_dict(PolicyConfig, TINY_ACT),
        steps=2,
        batch_size=4,
        num_workers=0,
        num_threads=1,
        progress=False,
    )
    # beta=1: the expert drives, so the stored episode is exactly the expert's own demonstration.
    cfg = DaggerConfig(
        train=train,
        expert=EXPERT,
        rounds=1,
        episodes_per_round=1,
        steps_per_round=1,
        beta=1.0,
        seed=7,
        max_steps=6,
        output_dir=str(tmp_path / "dagger"),
        progress=False,
    )
    result = dagger(cfg)

    assert LeRobotDataset("local/demos", root=tmp_path / "demos").num_episodes == 2  # demos untouched
    report = validate(result.dataset_root, deep=True)
    assert report.ok, report.lines()
    ds = LeRobotDataset("local/demos", root=result.dataset_root, camera_keys=[])
    assert ds.num_episodes == 3 and len(ds) == 2 * 8 + 6
    appended = np.stack([ds[i]["action"].numpy() for i in range(16, 22)])
    np.testing.assert_array_equal(appended, expert_actions(seed=7, n=6))
    rows = json.loads((tmp_path / "dagger" / "dagger.json").read_text())["rounds"]
    assert [r["round"] for r in rows] == [0, 1] and rows[1]["frames_added"] == 6 and rows[1]["expert_resyncs"] == 0
    assert result.checkpoint_dir.name == "000003"  # 2 behaviour-cloning steps + 1 after the round


def test_shadow_expert_replans_when_the_executed_action_is_far_from_its_label():
    env = PushTEnv(max_steps=None)
    env.reset(seed=3)
    shadow = ShadowExpert(EXPERT, resync_distance=10.0)
    label = shadow.label(env)
    shadow.executed(label, label + 5.0)  # close enough: keep the plan
    assert shadow.resyncs == 0
    shadow.executed(label, label + 50.0)
    assert shadow.resyncs == 1 and shadow.expert.plan == [] and shadow.expert.push is None
    env.close()


def test_feedback_shadow_expert_labels_a_state_the_same_whatever_was_executed():
    from robotlearn.envs.pusht_feedback_expert import PushTFeedbackExpert
    from robotlearn.errors import ConfigError

    env = PushTEnv(max_steps=None)
    env.reset(seed=3)
    shadow = ShadowExpert(EXPERT, resync_distance=10.0, kind="feedback")
    assert isinstance(shadow.expert, PushTFeedbackExpert)
    label = shadow.label(env)
    shadow.executed(label, label + 50.0)
    np.testing.assert_array_equal(shadow.label(env), label)
    env.close()
    with pytest.raises(ConfigError, match="planner, feedback"):
        DaggerConfig(expert_type="feedbak")


def test_dagger_refuses_a_non_empty_output_dir(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("")
    from robotlearn.errors import ConfigError

    with pytest.raises(ConfigError, match="not empty"):
        dagger(DaggerConfig(output_dir=str(tmp_path / "out")))
