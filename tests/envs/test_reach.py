"""Reach: the goal is only in the pixels, success is the point inside the goal disc, seeded resets
reproduce, and the rewards and termination follow their options."""

import numpy as np
import pytest

from robotlearn.envs import make_env
from robotlearn.envs.reach import GOAL_RADIUS, IMAGE_KEY, ReachEnv
from robotlearn.errors import ConfigError


def expert(env: ReachEnv) -> np.ndarray:
    return np.clip((env.goal - env.point) / env.speed, -1, 1)


def centroid(frame: np.ndarray, colour) -> np.ndarray:
    """Arena coordinates of the pixels of `colour` (y up)."""
    ys, xs = np.nonzero((frame == np.asarray(colour, np.uint8)).all(-1))
    size = frame.shape[0]
    return np.array([(xs.mean() + 0.5) / size * 2 - 1, 1 - (ys.mean() + 0.5) / size * 2])


def test_the_camera_shows_the_goal_and_the_point_where_they_are():
    env = make_env("reach", image_size=64)
    for seed in range(5):
        obs, _ = env.reset(seed=seed)
        frame = obs[IMAGE_KEY]
        assert frame.shape == (64, 64, 3) and frame.dtype == np.uint8
        assert list(obs) == [IMAGE_KEY]  # no state: only the pixels say where the goal is
        assert np.abs(centroid(frame, (230, 60, 50)) - env.point).max() < 0.05
        # the point may cover part of the goal; the goal's visible pixels still centre near it
        assert np.abs(centroid(frame, (60, 200, 80)) - env.goal).max() < 0.1


def test_seeded_resets_reproduce_and_start_away_from_the_goal():
    a, b = make_env("reach"), make_env("reach")
    for seed in range(20):
        a.reset(seed=seed)
        b.reset(seed=seed)
        assert np.array_equal(a.point, b.point) and np.array_equal(a.goal, b.goal)
        assert np.linalg.norm(a.point - a.goal) >= 0.8
    a.reset(seed=1)
    first = a.goal.copy()
    a.reset()
    assert not np.array_equal(first, a.goal)  # an unseeded reset continues the stream


def test_the_expert_reaches_every_goal_and_success_ends_the_episode():
    env = make_env("reach", max_steps=40)
    for seed in range(20):
        env.reset(seed=seed)
        for _ in range(40):
            _, reward, terminated, truncated, info = env.step(expert(env))
            if terminated or truncated:
                break
        assert terminated and not truncated and info["is_success"]
        assert info["distance"] < GOAL_RADIUS and reward == pytest.approx(10 - info["distance"])


def test_without_termination_success_lasts_and_the_success_reward_is_one_per_step():
    env = make_env("reach", max_steps=30, reward="success", terminate_on_success=False)
    env.reset(seed=3)
    rewards, done = [], False
    while not done:
        _, reward, terminated, truncated, info = env.step(expert(env))
        assert not terminated
        rewards.append(reward)
        done = truncated
    assert len(rewards) == 30 and set(rewards) == {0.0, 1.0}
    first = rewards.index(1.0)
    assert all(r == 1.0 for r in rewards[first:])  # the expert stays on the goal


def test_random_actions_rarely_reach_the_goal():
    env = make_env("reach", max_steps=40)
    env.action_space.seed(0)
    reached = 0
    for seed in range(100):
        env.reset(seed=seed)
        for _ in range(40):
            _, _, terminated, truncated, info = env.step(env.action_space.sample())
            if terminated or truncated:
                break
        reached += info["is_success"]
    assert reached <= 10


def test_bad_options_are_refused_with_the_flag_named():
    with pytest.raises(ConfigError, match="--env.reward"):
        make_env("reach", reward="shaped")
    with pytest.raises(ConfigError, match="--env.speed"):
        make_env("reach", speed=0)


def test_with_state_the_observation_also_carries_the_point_and_the_goal():
    env = make_env("reach", with_state=True)
    obs, _ = env.reset(seed=3)
    assert obs["observation.state"].dtype == np.float32
    assert np.allclose(obs["observation.state"], np.concatenate([env.point, env.goal]))
    obs, *_ = env.step(np.array([1.0, -1.0]))
    assert np.allclose(obs["observation.state"][:2], env.point) and np.allclose(obs["observation.state"][2:], env.goal)
    meta = env.dataset_meta()
    assert meta.features["observation.state"]["shape"] == [4] and meta.stats["observation.state"]["std"].shape == (4,)
    assert list(obs) == ["observation.images.top", "observation.state"]  # the camera stays
