"""check_env over every registered environment, and what it reports for a broken one."""

import numpy as np
import pytest

from robotlearn.envs import ENVS, make_env
from robotlearn.envs.check import check_env
from robotlearn.utils.checks import ConformanceError


@pytest.mark.parametrize("name", ENVS.names())
def test_every_registered_env_passes_check_env(name):
    if name == "pusht":
        pytest.importorskip("gym_pusht")
    check_env(make_env(name, max_steps=10))  # actions sampled from its action_space


class BrokenEnv:
    """Gymnasium's old 4-tuple step, an unseeded reset, a non-dataset observation key."""

    fps = 10

    def __init__(self):
        self.rng = np.random.default_rng()

    def reset(self, seed=None):
        return {"state": self.rng.random(2)}, {}

    def step(self, action):
        return {"state": self.rng.random(2)}, 0.0, False, {}

    def render(self):
        return np.zeros((8, 8), np.uint8)

    def close(self):
        pass


def test_check_env_lists_every_problem_of_a_broken_env():
    with pytest.raises(ConformanceError) as info:
        check_env(BrokenEnv(), action=np.zeros(2))
    problems = "\n".join(info.value.problems)
    for expected in [
        "has no config_class",
        "reset() observation key 'state' does not start with 'observation.'",
        "two reset(seed=0) calls gave different observations",
        "step() returned tuple of length 4; expected (obs, reward, terminated, truncated, info)",
        "render() returned ndarray uint8(8, 8); expected (H, W, 3) uint8",
    ]:
        assert expected in problems, f"{expected!r} not in:\n{problems}"


def test_check_env_needs_an_action_when_the_env_has_no_action_space():
    class NoSpaceEnv(BrokenEnv):
        def step(self, action):
            return {"observation.state": np.zeros(2, np.float32)}, 0.0, False, False, {}

    with pytest.raises(ConformanceError, match="pass check_env\\(env, action=...\\)"):
        check_env(NoSpaceEnv())
