"""check_policy over every registered policy (tiny configs, with and without a camera), and what it
reports for a policy that breaks the contract."""

import pytest
import torch
from tests.policies.test_policies import TINY, fake_meta

from robotlearn.policies import POLICIES, Policy, PolicyConfig, make_policy
from robotlearn.policies.check import check_policy
from robotlearn.utils.checks import ConformanceError


@pytest.mark.parametrize("with_image", [False, True])
@pytest.mark.parametrize("name", POLICIES.names())
def test_every_registered_policy_passes_check_policy(name, with_image):
    torch.manual_seed(0)
    policy = make_policy(name, fake_meta(with_image), **TINY.get(name, {}))
    before = {k: v.clone() for k, v in policy.state_dict().items()}
    check_policy(policy)
    assert all(torch.equal(before[k], v) for k, v in policy.state_dict().items())  # weights untouched
    assert all(p.grad is None for p in policy.parameters())


class ConstantPolicy(Policy):
    """Returns a loss without a graph and actions of the wrong width."""

    name = "constant_toy"

    def __init__(self):
        config = PolicyConfig(
            type="constant_toy",
            features={"observation.state": {"type": "STATE", "shape": [2]}, "action": {"type": "ACTION", "shape": [3]}},
        )
        super().__init__(config)
        self.bias = torch.nn.Parameter(torch.zeros(1))

    def delta_timestamps(self, fps):
        return {"action": [0.0, 0.1], "observation.image": [0.0]}

    def forward(self, batch):
        return torch.tensor(0.0), {}

    def select_action(self, observation):
        return torch.zeros(len(observation["observation.state"]), 2)

    def reset(self):
        pass


def test_check_policy_lists_every_problem_of_a_broken_policy():
    with pytest.raises(ConformanceError) as info:
        check_policy(ConstantPolicy())
    problems = "\n".join(info.value.problems)
    for expected in [
        "config.type 'constant_toy' is not registered in robotlearn.policies.POLICIES",
        "delta_timestamps() names 'observation.image', which is not in config.features",
        "forward()'s loss does not require grad",
        "select_action() returned shape (2, 2); expected (batch_size, action_dim) = (2, 3)",
    ]:
        assert expected in problems, f"{expected!r} not in:\n{problems}"
