"""The replay buffer: next observations come from the following frame (each frame stored once),
episode ends are handled (termination is `done`, a time limit is not), images stay uint8."""

import numpy as np
import pytest
import torch

from robotlearn.errors import ConfigError
from robotlearn.rl.buffer import ReplayBuffer, mixed_batch

STATE = {"observation.state": {"shape": [2], "dtype": "float32"}}


def fill(buffer, episodes):
    """episodes: list of (length, terminated). Observation of step t in episode e = [e, t]."""
    for e, (length, terminated) in enumerate(episodes):
        for t in range(length):
            last = t == length - 1
            buffer.add(
                {"observation.state": [e, t]},
                [10 * e + t],
                reward=float(t),
                terminated=last and terminated,
                truncated=last and not terminated,
                next_observation={"observation.state": [e, t + 1]},
            )


def all_transitions(buffer):
    batch = buffer.sample(2000, torch.Generator().manual_seed(0))
    pairs, done = batch["observation.state"], batch["next.done"]
    return {tuple(p[0].tolist()): (tuple(p[1].tolist()), bool(d)) for p, d in zip(pairs, done)}


def test_next_observation_is_the_following_frame_and_episode_ends_are_kept_apart():
    buffer = ReplayBuffer(STATE, action_dim=1, capacity=100)
    fill(buffer, [(3, True), (4, False)])
    # one frame per transition plus one final observation per episode: no frame stored twice
    assert buffer.frames_written == 3 + 1 + 4 + 1
    assert len(buffer) == 7
    seen = all_transitions(buffer)
    expected = {(e, t): ((e, t + 1), e == 0 and t == 2) for e, n in ((0, 3), (1, 4)) for t in range(n)}
    assert seen == expected  # the final observations (0, 3) and (1, 4) never start a transition
    batch = buffer.sample(64, torch.Generator().manual_seed(1))
    state = batch["observation.state"][:, 0]
    np.testing.assert_array_equal(batch["action"][:, 0], 10 * state[:, 0] + state[:, 1])


def test_ring_overwrites_the_oldest_transitions_only():
    buffer = ReplayBuffer(STATE, action_dim=1, capacity=6)
    fill(buffer, [(3, True), (4, False)])  # 9 frames into 6 slots
    seen = all_transitions(buffer)
    # frames (0,0) (0,1) (0,2) [0,3] (1,0) ... (1,3) [1,4]: the newest 6 survive, from the final [0,3] on
    assert set(seen) == {(1, 0), (1, 1), (1, 2), (1, 3)}
    assert all(nxt == (e, t + 1) for (e, t), (nxt, _) in seen.items())


def test_a_broken_chain_writes_its_observation_again():
    buffer = ReplayBuffer(STATE, action_dim=1, capacity=20)
    buffer.add({"observation.state": [0, 0]}, [0], 0.0, False, False, {"observation.state": [0, 1]})
    buffer.close_chain()  # e.g. the next transition went to the other buffer
    buffer.add({"observation.state": [0, 2]}, [2], 0.0, False, False, {"observation.state": [0, 3]})
    assert buffer.frames_written == 4
    assert all_transitions(buffer) == {(0, 0): ((0, 1), False), (0, 2): ((0, 3), False)}


def test_two_128px_cameras_cost_about_98_kb_per_transition_as_uint8():
    features = {
        "observation.images.front": {"shape": [3, 128, 128], "dtype": "video"},
        "observation.images.wrist": {"shape": [3, 128, 128], "dtype": "video"},
        "observation.state": {"shape": [18], "dtype": "float32"},
    }
    buffer = ReplayBuffer(features, action_dim=4, capacity=50)
    image = np.random.default_rng(0).integers(0, 256, (3, 128, 128), dtype=np.uint8)
    obs = {"observation.images.front": image, "observation.images.wrist": image, "observation.state": np.zeros(18)}
    buffer.add(obs, np.zeros(4), 0.0, False, False, obs)
    assert buffer.obs["observation.images.front"].dtype == torch.uint8
    np.testing.assert_array_equal(buffer.sample(1)["observation.images.front"][0, 1].numpy(), image)
    assert 2 * 3 * 128 * 128 <= buffer.bytes_per_frame < 2 * 3 * 128 * 128 + 200
    # 100k transitions (+ an episode end every 100) at this cost: well under 12 GB
    assert buffer.bytes_per_frame * 101_000 < 12e9


def test_mixed_batch_takes_its_fraction_from_demos():
    online, demos = ReplayBuffer(STATE, 1, 50), ReplayBuffer(STATE, 1, 50)
    fill(online, [(5, True)])
    for t in range(5):
        demos.add(
            {"observation.state": [9, t]}, [0], 0.0, False, False, {"observation.state": [9, t + 1]}, intervention=True
        )
    batch = mixed_batch(online, demos, 32, 0.25, torch.Generator().manual_seed(0))
    from_demos = batch["observation.state"][:, 0, 0] == 9
    assert int(from_demos.sum()) == 8 and bool(batch["intervention"][from_demos].all())
    with pytest.raises(ConfigError, match="empty"):
        ReplayBuffer(STATE, 1, 10).sample(4)
