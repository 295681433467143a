"""Async inference: the policy server in its own process, the robot client here, on loopback.

    python benchmarks/bench_inference.py                      # figures 1, 2, 6, 7 and the 10,000-frame fuzz
    python benchmarks/bench_inference.py --only parity --seeds 200 --report outputs/inference_report.html

Figures (issue 11's must-show numbers):
1, 2. sim PushT at 10 fps, `hold` policy (costs nothing) behind an artificial server delay D, chunks of
      16, n_exec = 8, fixed-length episodes of 80 actions, first chunk excluded: executed fraction of
      ticks and wall time per episode after the first chunk, async vs sync, against the bound
      (n_exec/fps + D) / (n_exec/fps): 1.375x at D = 300 ms.
6.    control-tick jitter p99 at 10 fps while the server busy-waits its delay (a core saturated), with
      the default scheduler and, where permitted (root / CAP_SYS_NICE), `--realtime_priority=10`.
7.    round trip of a PushT-size observation with the `hold` policy (p50/p99) and sustained obs/s.
8.    10,000 fuzzed frames against the server: all rejected, server RSS growth, a good session unaffected.
parity (3) and seams (5): simulated clock (the delay applied in ticks), the scripted expert as a
      chunking policy; `--only parity` (slow: ~3 s per episode per condition, shared over `--workers` processes).
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.inference.helpers import ServerProcess, pusht_observation

from robotlearn.inference import ClientOptions, RobotClient
from robotlearn.inference.metrics import episode_metrics
from robotlearn.robots.sim_pusht import PushTRobot, PushTRobotConfig
from robotlearn.transport import connect, wire

FPS = 10
N_EXEC = 8
CHUNK = 16


def episode(address: str, n_actions: int, sync: bool, realtime_priority: int | None = None) -> dict:
    robot = PushTRobot(PushTRobotConfig(seed=0))
    robot.connect()
    options = ClientOptions(fps=FPS, n_action_steps=N_EXEC, sync=sync, realtime_priority=realtime_priority)
    client = RobotClient(robot, address, options)
    client.connect()
    try:
        stats = client.run_episode(0, n_actions)
    finally:
        client.close()
        robot.disconnect()
    m = episode_metrics(stats, FPS)
    # The first chunk is excluded from rates: time from the start of the tick that executes the
    # first action after the first chunk's n_exec (sync: that tick sends, waits D, then acts) to the
    # episode's end. Sync then spans (chunks - 1) whole cycles of D + n_exec ticks, async the same
    # actions at one per tick, so the ratio's bound is the steady state's (D + n_exec/fps) / (n_exec/fps).
    first_tick = stats.executed_log[N_EXEC][0]
    m["wall_after_first_s"] = stats.wall_s - (stats.tick_starts[first_tick] - stats.tick_starts[0])
    return m


def figures_1_2_6(n_actions: int) -> None:
    print(
        f"\nFigures 1, 2, 6: sim PushT at {FPS} fps, hold policy, chunk {CHUNK}, n_exec {N_EXEC}, "
        f"{n_actions} actions per episode"
    )
    print(
        f"{'D ms':>5} {'async exec%':>11} {'sync exec%':>10} {'async s':>8} {'sync s':>7} {'speed-up':>8} "
        f"{'bound':>6} {'vs bound':>8} {'jitter p99 ms':>13} {'p99 SCHED_FIFO':>14} {'bytes/obs':>9}"
    )
    from robotlearn.errors import ConfigError
    from robotlearn.inference.realtime import realtime_scheduling

    try:  # can this process use real-time scheduling (root or CAP_SYS_NICE)?
        with realtime_scheduling(10):
            rt_priority = 10
    except ConfigError:
        rt_priority = None
    for delay_ms in (0, 100, 300, 600):
        with ServerProcess(
            "--policy.builtin=hold", f"--artificial_delay_s={delay_ms / 1000}", "--artificial_delay_busy=true"
        ) as server:
            a = episode(server.address, n_actions, sync=False)
            s = episode(server.address, n_actions, sync=True)
            rt = episode(server.address, n_actions, sync=False, realtime_priority=rt_priority) if rt_priority else None
        bound = (N_EXEC / FPS + delay_ms / 1000) / (N_EXEC / FPS)
        speedup = s["wall_after_first_s"] / a["wall_after_first_s"]
        print(
            f"{delay_ms:>5} {100 * a['executed_fraction']:>10.2f}% {100 * s['executed_fraction']:>9.2f}% "
            f"{a['wall_after_first_s']:>8.2f} {s['wall_after_first_s']:>7.2f} {speedup:>7.3f}x {bound:>5.3f}x "
            f"{100 * (speedup / bound - 1):>+7.1f}% {a['tick_jitter_ms']['p99']:>13.2f} "
            f"{(f'{rt_jitter:.2f}' if (rt_jitter := rt and rt['tick_jitter_ms']['p99']) is not None else 'n/a'):>14} "
            f"{a['obs_bytes']['p50']:>9.0f}"
        )


def figure_7(n: int) -> None:
    print(f"\nFigure 7: overhead, hold policy, PushT observation (96x96x3 uint8 + 2 floats), {n} round trips")
    with ServerProcess("--policy.builtin=hold") as server:
        conn = connect(server.address)
        conn.request({"type": "hello"})
        obs = pusht_observation(0)
        rtts = []
        for tick in range(n + 20):
            t0 = time.perf_counter()
            conn.request({"type": "observation", "tick": tick, "episode": 0, "observation": obs})
            rtts.append((time.perf_counter() - t0) * 1e3)
        rtts = np.asarray(rtts[20:])
        t0 = time.perf_counter()
        count = 0
        while time.perf_counter() - t0 < 3.0:
            conn.request({"type": "observation", "tick": n + 100 + count, "episode": 0, "observation": obs})
            count += 1
        rate = count / (time.perf_counter() - t0)
        conn.close()
    frame = len(wire.encode({"type": "observation", "tick": 0, "episode": 0, "observation": obs}))
    print(
        f"round trip p50 {np.percentile(rtts, 50):.3f} ms, p99 {np.percentile(rtts, 99):.3f} ms; "
        f"{rate:.0f} observations/s sustained (one client, request->reply); {frame} bytes per observation frame"
    )


GRPC_ECHO = """
import sys, grpc
from concurrent import futures
server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
handler = grpc.method_handlers_generic_handler("bench.Echo", {"Call": grpc.unary_unary_rpc_method_handler(lambda req, ctx: req[:400])})
server.add_generic_rpc_handlers((handler,))
port = server.add_insecure_port("127.0.0.1:0")
server.start(); print(port, flush=True); server.wait_for_termination()
"""


def grpc_comparison(n: int) -> None:
    """The same PushT-size frame as unary gRPC bytes echoed by a server process (400-byte reply): the
    transport alone, without any of our decoding or policy call."""
    try:
        import grpc
    except ImportError:
        print("(grpcio not installed: gRPC comparison skipped)")
        return
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", GRPC_ECHO], stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        call = channel.unary_unary("/bench.Echo/Call")
        frame = wire.encode({"type": "observation", "tick": 0, "episode": 0, "observation": pusht_observation(0)})
        rtts = []
        for _ in range(n + 20):
            t0 = time.perf_counter()
            call(frame)
            rtts.append((time.perf_counter() - t0) * 1e3)
        rtts = np.asarray(rtts[20:])
        print(
            f"gRPC unary echo of the same {len(frame)}-byte frame (transport only): p50 "
            f"{np.percentile(rtts, 50):.3f} ms, p99 {np.percentile(rtts, 99):.3f} ms"
        )
        channel.close()
    finally:
        proc.kill()


def figure_8(n: int) -> None:
    print(f"\nFuzz: {n} frames (random, authenticated garbage, bit-flipped valid frames, truncated)")
    token = b"bench-token"
    with ServerProcess("--policy.builtin=hold", env={"ROBOTLEARN_TOKEN": token.decode()}) as server:
        good = connect(server.address, token)
        good.request({"type": "hello"})
        ok = {"type": "observation", "tick": 0, "episode": 0, "observation": pusht_observation(0)}
        good.request(ok)
        host, port = server.address.rsplit(":", 1)
        rss0 = server.rss_mb()
        rng = np.random.default_rng(0)
        valid = wire.encode(ok, token)
        errors = accepted = closed = 0
        t0 = time.perf_counter()
        for i in range(n):
            kind = i % 4
            if kind == 0:
                frame = rng.bytes(int(rng.integers(1, 200)))
            elif kind == 3:
                frame = valid[: int(rng.integers(1, len(valid)))]
            else:
                payload = bytearray(valid[wire.HEADER_SIZE :] if kind == 1 else rng.bytes(int(rng.integers(1, 400))))
                for pos in rng.integers(0, len(payload), 3):
                    payload[pos] ^= 0xFF
                head = valid[:8] + struct.pack("<I", len(payload))
                frame = head + wire.mac_of(token, head, bytes(payload)) + bytes(payload)
            with socket.create_connection((host, int(port)), timeout=10) as sock:
                try:  # the server may close first (it rejects from the header alone)
                    sock.sendall(frame)
                    sock.shutdown(socket.SHUT_WR)  # a short frame ends here
                except OSError:
                    pass
                from robotlearn.transport import Connection

                try:
                    reply = Connection(sock, token).recv()
                    if reply["type"] == "error":
                        errors += 1
                    else:
                        accepted += 1
                except Exception:
                    closed += 1
        elapsed = time.perf_counter() - t0
        rss1 = server.rss_mb()
        after = good.request({**ok, "tick": 1})
        good.close()
        alive = server.proc.poll() is None
    print(
        f"{errors} error replies, {closed} closed without reply, {accepted} accepted; {elapsed:.1f} s; "
        f"server RSS {rss0:.0f} -> {rss1:.0f} MB ({rss1 - rss0:+.1f}); good session answered: "
        f"{after['type'] == 'actions'}; server alive: {alive}; tracebacks in output: "
        f"{'Traceback' in server.output()}"
    )


def traces_in_processes(run, seeds, workers: int) -> list:
    """`run(seed)` (an EpisodeTrace) for every seed, in `workers` forked processes; the traces come back as
    JSON and are rebuilt in seed order (identical to a serial run: each episode seeds its own RNG)."""
    import dataclasses

    from robotlearn.evaluation.parallel import run_in_processes
    from robotlearn.inference.simulated import EpisodeTrace

    seeds = list(seeds)

    def one(i: int) -> dict:
        trace = dataclasses.asdict(run(seeds[i]))
        trace["actions"] = [np.asarray(a, dtype=float).tolist() for a in trace["actions"]]
        return trace

    done = dict(run_in_processes(one, len(seeds), workers))
    return [
        EpisodeTrace(**{**done[i], "actions": [np.asarray(a) for a in done[i]["actions"]]}) for i in range(len(seeds))
    ]


def parity(
    n_seeds: int,
    delay_ticks: int,
    report: str | None,
    seam_seeds: int,
    policy_path: str | None,
    workers: int = 2,
    merge: str | None = None,
) -> None:
    import torch

    from robotlearn.envs.pusht import PushTEnv
    from robotlearn.inference.expert_chunks import PushTExpertChunkPolicy
    from robotlearn.inference.queue import DEFAULT_MERGE, MERGES
    from robotlearn.inference.simulated import seam_deltas, simulate_episode

    torch.set_num_threads(1)  # a simulated clock: one small forward pass at a time, no thread contention
    env = PushTEnv(max_steps=None)
    if policy_path:  # a trained policy, executing its own n_action_steps per chunk
        from robotlearn.policies import make_policy_from_pretrained

        policy = make_policy_from_pretrained(policy_path)
        n_exec, what = policy.config.n_action_steps, f"{policy.config.type} from {policy_path}"
    else:
        policy, n_exec = PushTExpertChunkPolicy(CHUNK, N_EXEC), N_EXEC
        what = f"scripted expert as a chunking policy (chunk {CHUNK})"
    seeds = range(100_000, 100_000 + n_seeds)
    print(
        f"\nParity (3): {what}, n_exec {n_exec}, simulated clock, "
        f"D = {delay_ticks} ticks, {n_seeds} paired seeds, 300 actions max, async merge {merge or DEFAULT_MERGE}"
    )
    rows = {}
    merge = merge or DEFAULT_MERGE
    modes = [
        ("sync", dict(mode="sync")),
        ("async", dict(mode="async", merge=merge)),
        ("async, no stale dropping", dict(mode="async", merge=merge, drop_stale=False)),
    ]
    if getattr(policy.config, "action_prefix_capacity", 0):  # trained to continue the committed actions
        modes.append(("async, no action prefix", dict(mode="async", merge=merge, action_prefix=False)))
    for name, kw in modes:
        t0 = time.perf_counter()
        traces = traces_in_processes(
            lambda s, kw=kw: simulate_episode(policy, env, s, delay_ticks, n_exec, **kw), seeds, workers
        )
        rows[name] = traces
        ok = [t for t in traces if t.success]
        print(
            f"{name:>26}: success {100 * len(ok) / len(traces):.1f}%, mean steps to success "
            f"{np.mean([t.steps for t in ok]) if ok else float('nan'):.1f}, idle ticks {sum(t.idle_ticks for t in traces)}"
            f" ({time.perf_counter() - t0:.0f} s)"
        )
    print(
        f"\nSeams (5): p99 max|Δaction| at chunk switches vs within chunks, D = {delay_ticks} ticks, {seam_seeds} seeds"
    )
    seam_rows = []
    for name in MERGES if seam_seeds else ():  # --seam_seeds=0: parity only
        traces = traces_in_processes(
            lambda s, name=name: simulate_episode(policy, env, s, delay_ticks, n_exec, merge=name),
            seeds[:seam_seeds],
            workers,
        )
        seam, within = (np.concatenate(x) for x in zip(*[seam_deltas(t) for t in traces]))
        p_seam, p_within = np.percentile(seam, 99), np.percentile(within, 99)
        success = np.mean([t.success for t in traces])
        seam_rows.append((name, p_seam, p_within, success))
        print(
            f"{name:>17}: seam p99 {p_seam:6.1f} px, within p99 {p_within:6.1f} px, ratio {p_seam / p_within:.2f}, "
            f"success {100 * success:.0f}%"
        )
    if report:
        write_report(report, rows, seam_rows, delay_ticks)
        print(f"report: {report}")


def write_report(path: str, rows: dict, seam_rows: list, delay_ticks: int) -> None:
    from robotlearn.report.svg import line_chart

    parts = [
        f"<h1>Async inference: simulated clock, D = {delay_ticks} ticks</h1>",
        "<h2>Success parity</h2><table>",
        "<tr><th>mode</th><th>success</th><th>mean steps</th></tr>",
    ]
    for name, traces in rows.items():
        ok = [t.steps for t in traces if t.success]
        parts.append(
            f"<tr><td>{name}</td><td>{100 * len(ok) / len(traces):.1f}%</td>"
            f"<td>{np.mean(ok) if ok else float('nan'):.1f}</td></tr>"
        )
    parts.append(
        "</table><h2>Merges side by side (p99 |Δaction|, px)</h2><table>"
        "<tr><th>merge</th><th>seam</th><th>within</th><th>ratio</th><th>success</th></tr>"
    )
    for merge, s, w, succ in seam_rows:
        parts.append(
            f"<tr><td>{merge}</td><td>{s:.1f}</td><td>{w:.1f}</td><td>{s / w:.2f}</td><td>{100 * succ:.0f}%</td></tr>"
        )
    parts.append("</table>")
    trace = rows["async"][0]
    xs = list(range(len(trace.actions)))
    parts.append(
        line_chart(
            {
                "target x": (xs, [float(a[0]) for a in trace.actions]),
                "target y": (xs, [float(a[1]) for a in trace.actions]),
            },
            title="executed actions, async, first seed",
            x_label="step",
            y_label="px",
        )
    )
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("<!doctype html><meta charset=utf-8><title>async inference</title>" + "".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["figures", "overhead", "fuzz", "parity"], default=None)
    parser.add_argument("--actions", type=int, default=80, help="actions per episode for figures 1, 2, 6")
    parser.add_argument("--round_trips", type=int, default=1000)
    parser.add_argument("--fuzz", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--seam_seeds", type=int, default=20)
    parser.add_argument("--delay_ticks", type=int, default=3)
    parser.add_argument("--report", default=None)
    parser.add_argument("--policy_path", default=None, help="parity: a trained policy's pretrained_model folder")
    parser.add_argument("--workers", type=int, default=2, help="parity: processes rolling episodes out at once")
    parser.add_argument("--merge", default=None, help="parity: the async rows' merge strategy (default: prefix)")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    if args.only in (None, "figures"):
        figures_1_2_6(args.actions)
    if args.only in (None, "overhead"):
        figure_7(args.round_trips)
        grpc_comparison(args.round_trips)
    if args.only in (None, "fuzz"):
        figure_8(args.fuzz)
    if args.only == "parity":
        parity(args.seeds, args.delay_ticks, args.report, args.seam_seeds, args.policy_path, args.workers, args.merge)


if __name__ == "__main__":
    main()
