"""Episodes rolled out in several processes at once: evaluation on every core.

A policy step on a small model uses one core poorly (PushT's ACT: ~2 ms of a 2-core machine's 4 core-ms),
so `evaluate_policy(..., workers=N)` forks N processes that each roll out a share of the episodes with one
torch thread, and collects their results as they finish. Episode i is the same in any process: its env
reset seed is seed + i and torch's RNG is seeded with seed + i before it (see `rollout.evaluate_policy`),
so the results equal a single process's, episode for episode.

Results travel back as JSON over a pipe (no pickle of anything a child computed). The children are
forked, so the policy (already loaded, possibly trained in this very process) is shared copy-on-write
and never serialised; only CPU policies are forked (a CUDA context does not survive fork).
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.connection
import os
from collections.abc import Callable, Iterator

from robotlearn.errors import ConfigError


def episode_shares(n_episodes: int, workers: int) -> list[list[int]]:
    """Episode numbers per worker, interleaved (worker k gets k, k + workers, ...) so that slow and fast
    stretches of seeds spread over the workers and the first episodes (the ones with videos) finish first."""
    workers = max(1, min(workers, n_episodes))
    return [list(range(k, n_episodes, workers)) for k in range(workers)]


def _worker(run_episode: Callable[[int], dict], episodes: list[int], conn) -> None:
    import torch

    torch.set_num_threads(1)  # N processes x 1 thread: the cores are shared out by processes
    try:
        for i in episodes:
            conn.send_bytes(json.dumps({"episode": i, "result": run_episode(i)}).encode())
        conn.send_bytes(b'{"done": true}')
    except BaseException as exc:
        conn.send_bytes(json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
    finally:
        conn.close()
        os._exit(0)  # skip the parent's atexit handlers and finalizers, inherited through fork


def run_in_processes(run_episode: Callable[[int], dict], n_episodes: int, workers: int) -> Iterator[tuple[int, dict]]:
    """Yield (episode number, result) for every episode in 0..n_episodes-1, in completion order, computed by
    `run_episode(i)` (which must return a JSON-serialisable dict) in `workers` forked processes.

    Raises RuntimeError naming the episode's worker error if one fails or dies; the other workers are
    stopped. Needs the 'fork' start method (Linux, macOS)."""
    if workers < 1:
        raise ConfigError(f"--eval.workers must be at least 1, got {workers}")
    if "fork" not in multiprocessing.get_all_start_methods():
        raise ConfigError("--eval.workers > 1 needs the 'fork' start method (Linux or macOS); use --eval.workers=1")
    ctx = multiprocessing.get_context("fork")
    procs, conns = [], []
    for share in episode_shares(n_episodes, workers):
        parent_end, child_end = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_worker, args=(run_episode, share, child_end), daemon=True)
        proc.start()
        child_end.close()
        procs.append(proc)
        conns.append(parent_end)
    try:
        live = list(conns)
        while live:
            for conn in multiprocessing.connection.wait(live):
                try:
                    message = json.loads(conn.recv_bytes())
                except EOFError:
                    raise RuntimeError("an evaluation worker process died (killed, or out of memory)") from None
                if "error" in message:
                    raise RuntimeError(f"an evaluation worker failed: {message['error']}")
                if message.get("done"):
                    live.remove(conn)
                    continue
                yield message["episode"], message["result"]
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join()
        for conn in conns:
            conn.close()
