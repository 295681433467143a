"""ACT with `max_action_prefix`: trained with the chunk's first d actions given (training-time action
conditioning, Black et al. 2025), it returns exactly those and plans the rest to continue them."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from robotlearn.policies import make_policy
from robotlearn.policies.policy import ACTION_PREFIX_KEY, PolicyConfigError

CHUNK = 6


def meta():
    features = {
        "observation.state": {"dtype": "float32", "shape": [2], "names": ["x", "y"]},
        "action": {"dtype": "float32", "shape": [2], "names": ["x", "y"]},
    }
    one = {"mean": np.zeros(2), "std": np.ones(2), "min": -np.ones(2), "max": np.ones(2)}
    return SimpleNamespace(features=features, stats={"observation.state": one, "action": one}, fps=10)


def tiny(**overrides):
    torch.manual_seed(0)
    sizes = dict(dim_model=32, n_heads=2, dim_feedforward=64, n_encoder_layers=1, use_vae=False, dropout=0.0)
    return make_policy("act", meta(), chunk_size=CHUNK, n_action_steps=CHUNK, lr=3e-3, **sizes, **overrides)


def test_the_chunk_starts_with_the_given_prefix_and_longer_ones_are_refused():
    policy = tiny(max_action_prefix=3).eval()
    assert policy.config.action_prefix_capacity == 3
    obs = {"observation.state": torch.tensor([[0.2, -0.1]])}
    prefix = torch.tensor([[[0.5, 0.5], [0.6, 0.4]]])
    chunk = policy.predict_action_chunk({**obs, ACTION_PREFIX_KEY: prefix})
    assert chunk.shape == (1, CHUNK, 2)
    torch.testing.assert_close(chunk[:, :2], prefix)
    assert not torch.equal(chunk[:, 2:], policy.predict_action_chunk(obs)[:, 2:])  # the prefix is an input
    with pytest.raises(PolicyConfigError, match="at most 3"):
        policy.predict_action_chunk({**obs, ACTION_PREFIX_KEY: torch.zeros(1, 4, 2)})
    with pytest.raises(PolicyConfigError, match="at most 0"):
        tiny().eval().predict_action_chunk({**obs, ACTION_PREFIX_KEY: prefix})


def test_a_policy_trained_with_prefixes_continues_a_plan_it_cannot_see_in_the_observation():
    """Each training chunk is a constant c drawn per sample, which the (constant) observation does
    not show: without a prefix the best guess is the mean, with one action of prefix it is c."""
    policy = tiny(max_action_prefix=2)
    optimizer = torch.optim.Adam(policy.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    state = torch.zeros(128, 2)
    for _ in range(150):
        c = torch.rand(128, 1, 2, generator=gen) * 2 - 1
        batch = {"observation.state": state, "action": c.expand(-1, CHUNK, -1).clone()}
        loss, _ = policy.forward(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    policy.eval()
    c = torch.rand(64, 1, 2, generator=gen) * 2 - 1
    obs = {"observation.state": torch.zeros(64, 2)}
    with_prefix = policy.predict_action_chunk({**obs, ACTION_PREFIX_KEY: c})[:, 1:]
    without = policy.predict_action_chunk(obs)[:, 1:]
    error_with = (with_prefix - c).abs().mean().item()
    error_without = (without - c).abs().mean().item()
    assert error_with < 0.25 * error_without, (error_with, error_without)
