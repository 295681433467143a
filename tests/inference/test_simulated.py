"""Success parity on a simulated clock (the delay applied exactly in ticks): the scripted expert as a
chunking policy succeeds async as it does sync; without stale-action dropping it degrades; with the
default merge, chunk switches are no rougher than steps inside a chunk (must-show 5).
The 200-seed figures: `python benchmarks/bench_inference.py --only parity`."""

import numpy as np

from robotlearn.envs.pusht import PushTEnv
from robotlearn.inference.expert_chunks import PushTExpertChunkPolicy
from robotlearn.inference.queue import DEFAULT_MERGE
from robotlearn.inference.simulated import seam_deltas, simulate_episode

SEEDS = (100_000, 100_001, 100_002)
DELAY_TICKS = 3  # 300 ms at 10 fps


def test_expert_chunks_keep_their_success_async_and_degrade_without_stale_dropping():
    env = PushTEnv(max_steps=None)
    policy = PushTExpertChunkPolicy(chunk_size=16, n_action_steps=8)
    runs = {
        name: [simulate_episode(policy, env, seed, DELAY_TICKS, 8, **kw) for seed in SEEDS]
        for name, kw in {
            "sync": dict(mode="sync"),
            "async": dict(mode="async"),
            "naive": dict(mode="async", drop_stale=False),
        }.items()
    }
    env.close()
    success = {name: [t.success for t in traces] for name, traces in runs.items()}
    assert success["sync"] == success["async"] == [True] * len(SEEDS)
    sync = runs["sync"]
    assert all(t.idle_ticks == (t.chunks - 1) * DELAY_TICKS for t in sync)  # the robot waits for every chunk
    assert all(t.idle_ticks == 0 for t in runs["async"])  # D = 3 < n_exec = 8: never waits
    steps = {name: np.mean([t.steps for t in traces]) for name, traces in runs.items()}
    assert steps["naive"] > steps["async"], steps  # late actions cost steps (or the episode)
    # smooth seams with the default merge: p99 |Δaction| at chunk switches <= 1.5x its within-chunk p99
    assert DEFAULT_MERGE == "prefix"
    seam, within = (np.concatenate(parts) for parts in zip(*[seam_deltas(t) for t in runs["async"]]))
    assert len(seam) >= 30 and len(within) >= 200
    assert np.percentile(seam, 99) <= 1.5 * np.percentile(within, 99), (
        np.percentile(seam, 99),
        np.percentile(within, 99),
    )


class PrefixRecorder(PushTExpertChunkPolicy):
    """The expert's chunks, from a policy that says it takes an action prefix; records what it got."""

    def __init__(self, capacity: int):
        super().__init__(chunk_size=16, n_action_steps=8)
        self.config.action_prefix_capacity = capacity
        self.prefixes = []

    def predict_action_chunk(self, observation: dict):
        from robotlearn.policies.policy import ACTION_PREFIX_KEY

        prefix = observation.get(ACTION_PREFIX_KEY)
        self.prefixes.append(None if prefix is None else prefix[0].numpy().copy())
        return super().predict_action_chunk(observation)


def test_async_passes_the_actions_executed_while_a_chunk_is_computed_to_a_prefix_policy():
    env = PushTEnv(max_steps=None)
    policy = PrefixRecorder(capacity=2)
    trace = simulate_episode(policy, env, SEEDS[0], DELAY_TICKS, 8, merge="latest_only", max_steps=40)
    sync_policy = PrefixRecorder(capacity=2)
    simulate_episode(sync_policy, env, SEEDS[0], DELAY_TICKS, 8, mode="sync", max_steps=40)
    env.close()
    assert policy.prefixes[0] is None and all(p is not None and len(p) == 2 for p in policy.prefixes[1:])
    assert all(p is None for p in sync_policy.prefixes)  # sync: the queue is empty, nothing is committed
    # the prefix sent with chunk k is what the robot then executed: actions for ticks t, t+1 of the
    # old chunk, executed at those ticks (the first chunk arrives at tick 3 and runs its indices 3..)
    executed = np.asarray(trace.actions)
    request_ticks = [3 + 8 * k - 3 for k in range(1, len(policy.prefixes))]  # every 8 ticks from tick 8
    for prefix, tick in zip(policy.prefixes[1:], request_ticks):
        steps = tick - DELAY_TICKS  # executed steps before this tick (the first chunk's wait was 3 ticks)
        np.testing.assert_allclose(prefix, executed[steps : steps + 2], rtol=1e-6)
