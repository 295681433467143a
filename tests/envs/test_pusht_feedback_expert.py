"""The state-feedback PushT expert: it solves PushT, and its action is a function of the state alone."""

import numpy as np
import pytest

pytest.importorskip("gym_pusht")

from robotlearn.envs import PushTEnv
from robotlearn.envs.pusht_expert import PushTExpert
from robotlearn.envs.pusht_feedback_expert import (
    PushTFeedbackExpert,
    PushTFeedbackExpertConfig,
    make_pusht_expert,
    predict_pushes,
)


def run(env, expert, seed, max_steps=300):
    """States seen and targets commanded in one episode from reset seed `seed`, and whether it succeeded."""
    env.reset(seed=seed)
    expert.reset()
    states, actions, success = [], [], False
    for _ in range(max_steps):
        states.append(env.get_state())
        actions.append(expert.act_env(env))
        _, _, success, _, _ = env.step(actions[-1])
        if success:
            break
    return np.array(states), np.array(actions), success


@pytest.fixture(scope="module")
def episode():
    env = PushTEnv(max_steps=None)
    states, actions, success = run(env, PushTFeedbackExpert(), seed=6)
    env.close()
    return states, actions, success


def test_feedback_expert_solves_pusht_within_300_steps_with_targets_near_the_agent(episode):
    states, actions, success = episode
    assert success and len(actions) < 300
    assert np.linalg.norm(actions - states[:, :2], axis=1).max() <= 30.0 + 1e-9


@pytest.mark.parametrize("shortest_turn, final_angle", [(False, np.pi / 4), (True, np.pi / 4 - 2 * np.pi)])
def test_block_is_turned_to_the_goal_angle_itself_unless_shortest_turn(shortest_turn, final_angle):
    env = PushTEnv(max_steps=None)  # seed 0: the block starts at -2.88 rad, the shorter turn is clockwise
    expert = PushTFeedbackExpert(PushTFeedbackExpertConfig(shortest_turn=shortest_turn))
    _, _, success = run(env, expert, seed=0)
    assert success and abs(env.get_state()[4] - final_angle) < 0.2
    env.close()


def test_same_state_gives_the_same_action_whatever_the_history(episode):
    states, actions, _ = episode
    other = PushTFeedbackExpert()
    env = PushTEnv(max_steps=None)
    run(env, other, seed=3, max_steps=40)  # another history first
    env.close()
    replay = np.array(
        [other.act(s, agent_vel=np.random.default_rng(i).normal(0, 100, 2)) for i, s in enumerate(states[::-1])]
    )
    np.testing.assert_array_equal(replay[::-1], actions)  # backwards, other velocities: the same targets


def test_targets_change_little_for_a_small_change_of_state(episode):
    states, actions, _ = episode
    expert = PushTFeedbackExpert()
    moved = np.array([expert.act(s + [0.5, 0.5, 0.0, 0.0, 0.0]) for s in states])
    jumps = np.linalg.norm(moved - actions, axis=1)
    assert np.mean(jumps < 3.0) >= 0.95, f"targets jumped > 3 px at {np.mean(jumps >= 3.0):.0%} of the states"


def test_push_model_matches_the_simulator_for_a_straight_push():
    from robotlearn.envs.pusht_expert import AGENT_RADIUS, _Physics, _rot

    pose = np.array([250.0, 260.0, 0.7])
    contact, normal = np.array([[-55.0, 0.0]]), np.array([[0.0, 1.0]])  # near the end of the bar's flat side
    c, n = _rot(pose[2]) @ contact[0] + pose[:2], _rot(pose[2]) @ normal[0]
    start = c - n * (AGENT_RADIUS + 0.5)
    targets = [start + n * 20 * (j + 1) / 6 for j in range(6)] + [start + n * 20] * 4
    simulated = _Physics().rollout(np.array([*start, *pose]), (0.0, 0.0), np.array(targets))
    predicted = predict_pushes(pose, contact, normal, np.array([19.5]))[0, 0]
    np.testing.assert_allclose(predicted, simulated, atol=1.0)  # px, px, and rad (0.18 rad turned)
    assert abs(predicted[2] - simulated[2]) < 0.01


def test_make_pusht_expert_picks_the_expert():
    assert isinstance(make_pusht_expert("planner"), PushTExpert)
    expert = make_pusht_expert("feedback", PushTFeedbackExpertConfig(max_target_distance=20.0))
    assert isinstance(expert, PushTFeedbackExpert) and expert.cfg.max_target_distance == 20.0
    with pytest.raises(ValueError, match="feedback"):
        make_pusht_expert("feedbak")
