"""`predict_action_chunk`: the whole planned chunk, of which `select_action` executes the first n_action_steps."""

import pytest
import torch
from tests.inference.helpers import pusht_observation, tiny_policy

from robotlearn.policies.observation import observation_to_batch


@pytest.mark.parametrize("policy_type", ["act", "diffusion"])
def test_select_action_executes_the_first_n_action_steps_of_the_chunk(policy_type):
    policy = tiny_policy(policy_type)
    batch = observation_to_batch(pusht_observation(0), policy.config.features)
    policy.reset()
    torch.manual_seed(7)
    chunk = policy.predict_action_chunk(batch)
    assert chunk.shape == (1, 16 if policy_type == "act" else 16 - policy.config.n_obs_steps + 1, 2)
    policy.reset()
    torch.manual_seed(7)
    actions = torch.stack([policy.select_action(batch) for _ in range(policy.config.n_action_steps)], dim=1)
    assert torch.equal(actions, chunk[:, : policy.config.n_action_steps])


def test_diffusion_chunk_from_an_explicit_history_equals_the_kept_history():
    policy = tiny_policy("diffusion")
    features = policy.config.features
    first, second = (observation_to_batch(pusht_observation(s), features) for s in (1, 2))
    policy.reset()
    policy.predict_action_chunk(first)
    torch.manual_seed(3)
    kept = policy.predict_action_chunk(second)  # history [first, second]
    history = {k: torch.stack([first[k], second[k]], dim=1) for k in first}
    policy.reset()
    torch.manual_seed(3)
    explicit = policy.predict_action_chunk(history)
    assert torch.equal(kept, explicit)
    assert not policy._obs_queue  # an explicit history leaves the kept one alone
