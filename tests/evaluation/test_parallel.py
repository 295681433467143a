"""Episodes evaluated in several processes give the single process's results, episode for episode."""

import os

import pytest
import torch

from robotlearn.evaluation import evaluate_policy
from robotlearn.evaluation.parallel import episode_shares


class StateFeedbackPolicy:
    """A deterministic policy-like object: the target is a function of the agent's position, plus noise
    from torch's global RNG (which evaluate_policy seeds per episode), so episodes differ by seed and a
    wrongly seeded or misassigned episode changes the result."""

    def __init__(self, fail_at_pid: int | None = None):
        self.config = type("C", (), {"features": {"observation.state": {"type": "STATE", "shape": (2,)}}})()
        self.device = torch.device("cpu")
        self.fail_at_pid = fail_at_pid
        self.steps = 0

    def eval(self):
        return self

    def reset(self):
        self.steps = 0

    def select_action(self, batch):
        if self.fail_at_pid is not None and os.getpid() != self.fail_at_pid:
            raise ValueError("policy exploded in a worker")
        self.steps += 1
        agent = batch["observation.state"][0]
        return (agent + 40.0 * torch.randn(2) + torch.tensor([3.0, -2.0]) * self.steps).clamp(0, 512)[None]


def test_episode_shares_cover_every_episode_once():
    shares = episode_shares(7, 3)
    assert shares == [[0, 3, 6], [1, 4], [2, 5]]
    assert episode_shares(2, 8) == [[0], [1]]  # never more workers than episodes


def test_two_workers_give_the_single_process_results(tmp_path):
    threads = torch.get_num_threads()
    serial = evaluate_policy(StateFeedbackPolicy(), 5, seed=11, max_steps=25, progress=False)
    parallel = evaluate_policy(
        StateFeedbackPolicy(), 5, seed=11, max_steps=25, progress=False, workers=2, n_videos=1, video_dir=tmp_path
    )
    assert [e["seed"] for e in parallel["per_episode"]] == [11, 12, 13, 14, 15]
    assert parallel["per_episode"] == serial["per_episode"]
    assert parallel["aggregated"] == serial["aggregated"]
    # the episodes really differ, so a mix-up of seeds or results would show above
    assert len({round(e["sum_reward"], 6) for e in serial["per_episode"]}) > 1
    assert parallel["video_paths"] == [str(tmp_path / "eval_episode_0.mp4")]
    assert (tmp_path / "eval_episode_0.mp4").stat().st_size > 0
    assert torch.get_num_threads() == threads  # the workers' one-thread setting stays in the workers


def test_a_worker_error_is_raised_in_the_parent():
    with pytest.raises(RuntimeError, match="policy exploded in a worker"):
        evaluate_policy(StateFeedbackPolicy(fail_at_pid=os.getpid()), 4, seed=0, max_steps=5, progress=False, workers=2)
