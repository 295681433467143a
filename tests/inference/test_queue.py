"""ActionQueue: actions keyed by tick, stale ones dropped exactly, chunks only in order, five merges."""

import numpy as np
import pytest

from robotlearn.errors import ConfigError
from robotlearn.inference.queue import MERGES, ActionQueue


def chunk(value, n=6):
    return np.full((n, 1), float(value))


def test_actions_whose_tick_passed_are_dropped_exactly():
    q = ActionQueue()
    result = q.add_chunk(obs_tick=10, chunk=np.arange(6.0)[:, None], now_tick=13)
    assert (result.dropped_stale, result.added) == (3, 3)
    assert q.pop(13)[0] == 3.0 and q.size(14) == 2


def test_without_stale_dropping_the_chunk_starts_late():
    q = ActionQueue(drop_stale=False)
    q.add_chunk(obs_tick=10, chunk=np.arange(6.0)[:, None], now_tick=13)
    assert q.pop(13)[0] == 0.0  # the action planned for tick 10, executed at 13


def test_duplicated_or_reordered_chunks_are_rejected_whole():
    q = ActionQueue(merge="latest_only")
    assert q.add_chunk(8, chunk(1), 8).accepted
    assert not q.add_chunk(8, chunk(2), 9).accepted  # duplicate
    assert q.add_chunk(12, chunk(3), 12).accepted
    assert not q.add_chunk(10, chunk(4), 12).accepted  # older than one already merged
    assert q.pop(12)[0] == 3.0 and q.source_of(13) == 12


@pytest.mark.parametrize(
    "merge,expected",
    [
        ("weighted_average", 0.3 * 1 + 0.7 * 2),
        ("latest_only", 2.0),
        ("average", 1.5),
        ("conservative", 0.7 * 1 + 0.3 * 2),
    ],
)
def test_reference_merges_weight_old_and_new(merge, expected):
    q = ActionQueue(merge=merge)
    q.add_chunk(0, chunk(1), 0)
    q.add_chunk(2, chunk(2), 2)
    assert q.pop(2)[0] == pytest.approx(expected)


def test_prefix_merge_keeps_the_committed_action_then_fades_to_the_new_chunk():
    q = ActionQueue(merge="prefix", commit_ticks=1, blend_ticks=3)
    q.add_chunk(0, chunk(0, n=10), 0)
    q.add_chunk(2, chunk(4, n=8), 2)
    got = [q.pop(t)[0] for t in range(2, 10)]
    assert got == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0, 4.0, 4.0, 4.0])


def test_unknown_merge_suggests_the_closest():
    with pytest.raises(ConfigError, match="did you mean 'average'"):
        ActionQueue(merge="averge")
    assert len(MERGES) == 5


def test_upcoming_gives_the_queued_actions_from_a_tick_until_the_first_gap():
    q = ActionQueue(merge="latest_only")
    q.add_chunk(obs_tick=10, chunk=np.arange(4.0)[:, None], now_tick=10)  # ticks 10..13
    np.testing.assert_array_equal(q.upcoming(11, 2), [[1.0], [2.0]])
    np.testing.assert_array_equal(q.upcoming(12, 5), [[2.0], [3.0]])  # stops where the queue ends
    assert q.upcoming(14, 3) is None and q.upcoming(10, 0) is None
    assert q.size(10) == 4  # nothing is taken out
