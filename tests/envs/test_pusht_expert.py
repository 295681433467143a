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
