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
