"""The scripted PushT expert's planner on its own: no robot or teleoperator involved."""

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("gym_pusht")

from robotlearn.envs import PushTEnv
from robotlearn.envs.pusht_expert import PushTExpert, PushTExpertConfig


def run(env, expert, seed, max_steps=300):
    env.reset(seed=seed)
    expert.reset()
    actions = []
    for _ in range(max_steps):
        action = expert.act_env(env)
        actions.append(np.asarray(action, np.float64))
        _, _, terminated, _, _ = env.step(action)
        if terminated:
            break
    return np.array(actions), terminated


def test_expert_solves_pusht_and_is_deterministic():
    env = PushTEnv(max_steps=None)
    first, solved = run(env, PushTExpert(), seed=2)
    again, _ = run(env, PushTExpert(PushTExpertConfig()), seed=2)
    assert solved and len(first) < 300
    np.testing.assert_array_equal(first, again)
    env.close()


def test_act_env_is_act_on_the_env_state():
    env, expert = PushTEnv(max_steps=None), PushTExpert()
    env.reset(seed=5)
    a = expert.act_env(env)
    expert.reset()
    b = expert.act(env.get_state(), env.agent_velocity(), env.coverage())
    np.testing.assert_array_equal(a, b)
    env.close()


def test_planner_imports_no_devices():
    code = "import sys, robotlearn.envs.pusht_expert; print(sorted(m for m in sys.modules if m.startswith(('robotlearn.robots', 'robotlearn.teleoperators'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_capped_expert_keeps_every_target_near_the_agent_and_still_solves_pusht():
    env = PushTEnv(max_steps=None)
    expert = PushTExpert(PushTExpertConfig(max_target_distance=30.0))
    for seed in (2,):
        env.reset(seed=seed)
        expert.reset()
        for _ in range(300):
            agent = env.get_state()[:2]
            action = expert.act_env(env)
            assert np.linalg.norm(np.asarray(action) - agent) <= 30.0 + 1e-9
            *_, terminated, _, _ = env.step(action)
            if terminated:
                break
        assert terminated, f"seed {seed}: the capped expert did not succeed in 300 steps"
    env.close()


def test_cap_target_moves_far_targets_toward_the_agent_along_the_same_line():
    from robotlearn.envs.pusht_expert import cap_target

    agent = np.array([100.0, 100.0])
    np.testing.assert_allclose(cap_target(agent, (400.0, 500.0), 50.0), [130.0, 140.0])
    np.testing.assert_array_equal(cap_target(agent, (110.0, 100.0), 50.0), [110.0, 100.0])  # close: unchanged
    np.testing.assert_array_equal(cap_target(agent, (400.0, 500.0), 0.0), [400.0, 500.0])  # 0: no cap
