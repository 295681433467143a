"""SAC: the three losses on a fixed batch against values computed by hand, each loss's gradient
reaching only its own parameters, DrQ's shift, and save/load giving the same actions."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from robotlearn.policies import make_policy, make_policy_from_pretrained
from robotlearn.policies.sac.model import random_shift

GAMMA, ALPHA = 0.9, 0.5
META = SimpleNamespace(
    features={
        "observation.state": {"dtype": "float32", "shape": [2], "names": None},
        "action": {"dtype": "float32", "shape": [1], "names": None},
    },
    stats={
        "observation.state": {"mean": np.zeros(2), "std": np.ones(2)},
        "action": {"min": np.array([-2.0]), "max": np.array([2.0])},
    },
)


def tiny_sac(**overrides):
    torch.manual_seed(0)
    return make_policy("sac", META, **{"hidden_dims": [], "discount": GAMMA, "init_temperature": ALPHA, **overrides})


def constant_networks(policy, q_bias, target_bias, mean, raw_log_std):
    """Q_i = q_bias[i], Q'_i = target_bias[i], actor mean / pre-squash log std constants."""
    with torch.no_grad():
        for net, b in [*zip(policy.critic.qs, q_bias), *zip(policy.critic_target.qs, target_bias)]:
            net[0].weight.zero_()
            net[0].bias.fill_(b)
        policy.actor.net[0].weight.zero_()
        policy.actor.net[0].bias.copy_(torch.tensor([mean, raw_log_std]))


def log_prob(eps, mean, log_std):
    u = mean + math.exp(log_std) * eps
    return -0.5 * eps**2 - log_std - 0.5 * math.log(2 * math.pi) - math.log(1 - math.tanh(u) ** 2)


def test_losses_match_hand_computed_values_and_gradients_stay_in_their_networks():
    policy = tiny_sac().train()
    q_bias, target_bias, mean, raw = (1.0, 3.0), (2.0, -1.0), 0.3, 0.2
    constant_networks(policy, q_bias, target_bias, mean, raw)
    log_std = -5.0 + 0.5 * (2.0 - -5.0) * (math.tanh(raw) + 1)
    batch = {
        "observation.state": torch.tensor([[[0.1, 0.2], [0.5, 0.6]], [[0.3, -0.4], [0.7, 0.8]]]),  # (B, 2: s, s', 2)
        "action": torch.tensor([[1.0], [-1.0]]),
        "next.reward": torch.tensor([1.0, -2.0]),
        "next.done": torch.tensor([False, True]),
    }
    policy.generator = torch.Generator().manual_seed(7)
    loss, info = policy(batch)
    g = torch.Generator().manual_seed(7)  # the same draws: a' for s' first, then a~ for s
    eps_next, eps_new = torch.randn((2, 1), generator=g)[:, 0].tolist(), torch.randn((2, 1), generator=g)[:, 0].tolist()

    targets = [
        r + GAMMA * (1 - d) * (min(target_bias) - ALPHA * log_prob(e, mean, log_std))
        for r, d, e in zip((1.0, -2.0), (0, 1), eps_next)
    ]
    critic = sum(np.mean([(b - y) ** 2 for y in targets]) for b in q_bias)
    logp_new = [log_prob(e, mean, log_std) for e in eps_new]
    actor = np.mean([ALPHA * lp - min(q_bias) for lp in logp_new])
    temperature = -np.mean([math.log(ALPHA) * (lp + -1.0) for lp in logp_new])  # target entropy -|A|
    assert info["critic_loss"] == pytest.approx(critic, rel=1e-5)
    assert info["actor_loss"] == pytest.approx(actor, rel=1e-5)
    assert info["temperature_loss"] == pytest.approx(temperature, rel=1e-5)
    assert loss.item() == pytest.approx(critic + actor + temperature, rel=1e-5)

    # one backward of the sum gives each network exactly the gradient of its own loss
    policy.zero_grad()
    loss.backward()
    # the critic's gradient is that of the critic loss alone (the actor's term reaches it detached)
    features = policy.critic.encoder(policy._split(batch)[0])
    action = policy.normalizer.normalize("action", batch["action"])
    critic_only = ((policy.critic(features, action) - torch.tensor(targets)) ** 2).mean(dim=1).sum()
    params = [p for p in policy.critic.parameters()]
    for p, expected in zip(params, torch.autograd.grad(critic_only, params)):
        torch.testing.assert_close(p.grad, expected)
    assert all(p.grad is None or not p.grad.any() for p in policy.critic_target.parameters())
    assert policy.log_alpha.grad.item() == pytest.approx(-np.mean([lp - 1.0 for lp in logp_new]), rel=1e-5)


def test_target_networks_follow_by_polyak_averaging():
    policy = tiny_sac(tau=0.25)
    online = policy.critic.qs[0][0].bias
    target = policy.critic_target.qs[0][0].bias
    with torch.no_grad():
        online.fill_(4.0)
        target.fill_(0.0)
    policy.update_target()
    torch.testing.assert_close(target, torch.full_like(target, 1.0))


def test_random_shift_crops_each_image_from_its_padded_copy():
    images = torch.arange(2 * 1 * 6 * 6, dtype=torch.float32).reshape(2, 1, 6, 6)
    shifted = random_shift(images, 2, torch.Generator().manual_seed(0))
    assert shifted.shape == images.shape
    padded = torch.nn.functional.pad(images, (2, 2, 2, 2), mode="replicate")
    for b in range(2):
        matches = [
            (y, x) for y in range(5) for x in range(5) if torch.equal(padded[b, :, y : y + 6, x : x + 6], shifted[b])
        ]
        assert matches, "not a crop of the padded image"
    assert torch.equal(random_shift(images, 0), images)


def test_actions_stay_in_bounds_and_a_saved_policy_acts_the_same(tmp_path):
    policy = tiny_sac(hidden_dims=[16]).eval()
    obs = {"observation.state": torch.randn(64, 2) * 10}
    sampled = policy.sample_action(obs)
    assert sampled.shape == (64, 1) and bool((sampled.abs() <= 2.0 + 1e-6).all())
    policy.save_pretrained(tmp_path / "sac")
    loaded = make_policy_from_pretrained(tmp_path / "sac")
    torch.testing.assert_close(loaded.select_action(obs), policy.select_action(obs), rtol=0, atol=0)
    assert loaded.predict_action_chunk(obs).shape == (64, 1, 1)


def test_a_transition_past_the_episode_end_is_left_out_unless_terminal():
    policy = tiny_sac(hidden_dims=[8]).train()
    one = {
        "observation.state": torch.tensor([[[0.1, 0.2], [0.5, 0.6]]]),
        "observation.state_is_pad": torch.tensor([[False, False]]),
        "action": torch.tensor([[1.0]]),
        "next.reward": torch.tensor([1.0]),
        "next.done": torch.tensor([False]),
    }
    padded_row = {
        "observation.state": torch.tensor([[[9.0, 9.0], [0.0, 0.0]]]),
        "observation.state_is_pad": torch.tensor([[False, True]]),
        "action": torch.tensor([[-1.0]]),
        "next.reward": torch.tensor([5.0]),
        "next.done": torch.tensor([False]),
    }
    two = {k: torch.cat([one[k], padded_row[k]]) for k in one}
    policy.generator = torch.Generator().manual_seed(0)
    _, info_one = policy(one)
    policy.generator = torch.Generator().manual_seed(0)
    _, info_two = policy(two)
    # the same draws for row 0 (noise is drawn per row, row 0 first); row 1 adds nothing to the critic
    assert info_two["critic_loss"] == pytest.approx(info_one["critic_loss"], rel=1e-5)
    two["next.done"] = torch.tensor([False, True])  # a terminal transition counts even past the end
    policy.generator = torch.Generator().manual_seed(0)
    _, info_terminal = policy(two)
    assert info_terminal["critic_loss"] != pytest.approx(info_one["critic_loss"], rel=1e-3)
