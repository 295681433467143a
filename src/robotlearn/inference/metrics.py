"""Per-episode inference metrics: per-stage times (p50/p95/p99), idle ticks, queue sizes, bytes."""

from __future__ import annotations

import numpy as np

STAGES = ("encode", "wire", "server_decode", "queue", "inference", "delay", "decode", "merge", "rtt")


def percentiles(values) -> dict:
    v = np.asarray(list(values), dtype=np.float64)
    if v.size == 0:
        return {"p50": None, "p95": None, "p99": None, "n": 0}
    p50, p95, p99 = np.percentile(v, [50, 95, 99])
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99), "n": int(v.size)}


def episode_metrics(stats, fps: float) -> dict:
    """EpisodeStats -> a JSON-able dict. The episode's first chunk is left out of the stage times."""
    chunks = [c for c in stats.per_chunk if not c.get("first")]
    active = max(1, stats.ticks - stats.first_chunk_ticks)
    starts = np.asarray(stats.tick_starts)
    jitter = np.abs(np.diff(starts) - 1.0 / fps) * 1e3 if starts.size > 1 else np.zeros(0)
    return {
        "episode": stats.episode,
        "ticks": stats.ticks,
        "executed": stats.executed,
        "idle_ticks": stats.idle_ticks,
        "first_chunk_ticks": stats.first_chunk_ticks,
        "executed_fraction": 1.0 - stats.idle_ticks / active,
        "wall_s": stats.wall_s,
        "chunks": stats.chunks,
        "rejected_chunks": stats.rejected_chunks,
        "dropped_stale": stats.dropped_stale,
        "reconnects": stats.reconnects,
        "stages_ms": {s: percentiles(c[s] for c in chunks if s in c) for s in STAGES},
        "obs_bytes": percentiles(c["obs_bytes"] for c in stats.per_chunk),
        "tick_jitter_ms": percentiles(jitter),
        "queue_sizes": list(map(int, stats.queue_sizes)),
    }
