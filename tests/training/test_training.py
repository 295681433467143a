"""Training utilities: resumable data order, LR schedules, EMA, optimizer checkpoints without pickle."""

import json

import pytest
import torch

from robotlearn.training.checkpoint import load_optimizer, load_rng, save_optimizer, save_rng
from robotlearn.training.ema import EMA
from robotlearn.training.optim import lr_factor, make_scheduler
from robotlearn.training.sampler import ResumableSampler


def take(it, n):
    return [next(it) for _ in range(n)]


def test_sampler_visits_each_index_once_per_epoch_and_resumes_mid_stream():
    full = take(iter(ResumableSampler(10, seed=3)), 35)
    for epoch in range(3):
        assert sorted(full[10 * epoch : 10 * epoch + 10]) == list(range(10))
    assert full[:10] != full[10:20]  # a new order each epoch
    assert take(iter(ResumableSampler(10, seed=3, start=17)), 18) == full[17:35]
    assert take(iter(ResumableSampler(10, seed=4)), 10) != full[:10]
    with pytest.raises(ValueError, match="empty dataset"):
        ResumableSampler(0, seed=0)


def test_cosine_schedule_warms_up_linearly_then_decays_to_zero():
    assert [lr_factor(s, "cosine", 4, 14) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert lr_factor(9, "cosine", 4, 14) == pytest.approx(0.5)
    assert lr_factor(14, "cosine", 4, 14) == pytest.approx(0.0)
    assert lr_factor(100, "constant", 4, 14) == 1.0
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=2.0)
    with pytest.raises(ValueError, match="--policy.scheduler"):
        make_scheduler(opt, "linear", 0, 10)


def test_ema_starts_as_a_copy_then_averages():
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(1.0)
    ema = EMA(model, power=1.0)
    ema.update(model)  # decay 0: a copy
    assert ema.shadow["weight"].item() == 1.0
    with torch.no_grad():
        model.weight.fill_(3.0)
    ema.update(model)  # decay 1 - 1/2 = 0.5
    assert ema.shadow["weight"].item() == pytest.approx(2.0)


def test_optimizer_and_rng_state_round_trip_through_safetensors_and_json(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 1))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, betas=(0.9, 0.99))
    for _ in range(3):
        opt.zero_grad()
        model(torch.randn(5, 3)).pow(2).mean().backward()
        opt.step()
    save_optimizer(opt, tmp_path)
    json.loads((tmp_path / "optimizer_state.json").read_text())  # plain JSON
    fresh = torch.optim.AdamW(model.parameters(), lr=5.0)
    load_optimizer(fresh, tmp_path)
    a, b = opt.state_dict(), fresh.state_dict()
    assert a["param_groups"] == b["param_groups"]
    for pid in a["state"]:
        for name, value in a["state"][pid].items():
            torch.testing.assert_close(b["state"][pid][name], value)

    import random

    import numpy as np

    save_rng(tmp_path)
    expected = (torch.rand(3), np.random.rand(3), random.random())
    load_rng(tmp_path)
    got = (torch.rand(3), np.random.rand(3), random.random())
    torch.testing.assert_close(got[0], expected[0])
    assert np.array_equal(got[1], expected[1]) and got[2] == expected[2]
