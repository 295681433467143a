"""Policy server and robot client in separate processes on loopback: ticks and bytes counted, never wall time.

The server runs as `robotlearn serve-policy` in a subprocess; the client drives a simulated PushT
robot in the test process (or as `robotlearn run-policy` subprocesses). Delays are given in ticks:
an artificial server delay of D ticks at the test's control rate.
"""

import json
import socket
import struct
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch
from tests.inference.helpers import ServerProcess, pusht_observation, tiny_policy

from robotlearn.inference import ClientOptions, RobotClient
from robotlearn.policies.observation import observation_to_batch
from robotlearn.robots.sim_pusht import PushTRobot, PushTRobotConfig
from robotlearn.transport import Connection, connect, wire

FPS = 20  # ticks of 50 ms: slack for a loaded 2-core machine, same tick counts as at 10 fps
N_EXEC = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pusht_robot(seed=0):
    robot = PushTRobot(PushTRobotConfig(seed=seed))
    robot.connect()
    return robot


def run_client(address, n_actions, on_tick=None, **options):
    robot = pusht_robot()
    client = RobotClient(robot, address, ClientOptions(fps=FPS, n_action_steps=N_EXEC, **options))
    client.connect()
    try:
        return client.run_episode(0, n_actions, on_tick=on_tick)
    finally:
        client.close()
        robot.disconnect()


def assert_executed_in_order(stats):
    """Every executed action is for its own tick, from a chunk planned at or before it, chunks in order."""
    sources = [s for _, s in stats.executed_log]
    assert all(s is not None and s <= t for t, s in stats.executed_log)
    assert sources == sorted(sources)


@pytest.mark.parametrize("delay_ticks", [3, 6])
def test_async_executes_every_tick_while_sync_idles_the_delay_per_chunk(delay_ticks):
    with ServerProcess("--policy.builtin=hold", f"--artificial_delay_s={delay_ticks / FPS}") as server:
        fast = run_client(server.address, 40)
        slow = run_client(server.address, 40, sync=True)
    active = fast.ticks - fast.first_chunk_ticks
    assert fast.executed == 40 and fast.idle_ticks <= 0.005 * active, fast.summary()
    assert_executed_in_order(fast)
    per_chunk = slow.idle_ticks / (slow.chunks - 1)
    assert delay_ticks <= per_chunk <= delay_ticks + 2, slow.summary()


@pytest.mark.parametrize("policy_type", ["act", "diffusion"])
def test_same_observation_and_seed_give_bit_identical_chunks_through_the_server(policy_type, tmp_path):
    policy = tiny_policy(policy_type)
    policy.save_pretrained(tmp_path / "model")
    n_hist = getattr(policy.config, "n_obs_steps", 1)
    steps = [pusht_observation(seed) for seed in range(n_hist)]
    observation = {k: np.stack([s[k] for s in steps]) for k in steps[0]} if n_hist > 1 else steps[0]
    with ServerProcess(f"--policy.path={tmp_path / 'model'}") as server:
        conn = connect(server.address)
        assert conn.request({"type": "hello"})["type"] == "welcome"
        replies = [
            conn.request({"type": "observation", "tick": t, "episode": 0, "observation": observation, "seed": 1234})
            for t in range(2)
        ]
        conn.close()
    features = policy.config.features
    batches = [observation_to_batch(s, features) for s in steps]
    batch = {k: torch.stack([b[k] for b in batches], dim=1) for k in batches[0]} if n_hist > 1 else batches[0]
    torch.manual_seed(1234)
    expected = policy.predict_action_chunk(batch)[0].numpy()
    for reply in replies:
        assert reply["actions"].dtype == np.float32 and np.array_equal(reply["actions"], expected)


def test_a_prefix_trained_policy_continues_the_actions_the_client_has_committed(tmp_path):
    """The client sends the actions queued for the ticks the last chunk took to arrive; the chunk
    starts with exactly those; a longer prefix than the policy takes is refused, the session lives."""
    from robotlearn.transport import RemoteError

    tiny_policy("act", max_action_prefix=4).save_pretrained(tmp_path / "model")
    delay_ticks = 3
    with ServerProcess(f"--policy.path={tmp_path / 'model'}", f"--artificial_delay_s={delay_ticks / FPS}") as server:
        conn = connect(server.address)
        assert conn.request({"type": "hello"})["policy"]["action_prefix_capacity"] == 4
        message = {"type": "observation", "tick": 0, "episode": 0, "observation": pusht_observation(0)}
        prefix = np.array([[100.0, 200.0], [110.0, 210.0]], np.float32)
        reply = conn.request({**message, "action_prefix": prefix})
        np.testing.assert_array_equal(reply["actions"][:2], prefix)
        with pytest.raises(RemoteError, match=r"d <= 4"):
            conn.request({**message, "tick": 1, "action_prefix": np.zeros((5, 2), np.float32)})
        assert conn.request({**message, "tick": 2})["actions"].shape == (16, 2)
        conn.close()
        stats = run_client(server.address, 40)
        plain = run_client(server.address, 40, action_prefix=False)
    chunks = stats.per_chunk
    assert len(chunks) >= 4 and chunks[0]["prefix"] == 0  # nothing is queued for the first
    for before, chunk in zip(chunks, chunks[1:]):  # each sends as many as the previous chunk's delay
        assert chunk["prefix"] == min(4, before["delay_ticks"]) and before["delay_ticks"] >= delay_ticks
    assert all(c["prefix"] == 0 for c in plain.per_chunk)
    assert stats.executed == 40 and stats.idle_ticks <= 0.005 * (stats.ticks - stats.first_chunk_ticks)


def _reply(sock: socket.socket, token: bytes) -> dict | None:
    """The server's one reply on a raw socket (None if it just closed)."""
    conn = Connection(sock, token)
    conn.sock.settimeout(10)
    try:
        return conn.recv()
    except Exception:
        return None


def test_bad_input_is_rejected_with_one_line_and_other_sessions_continue():
    token = b"s3cret-token"
    with ServerProcess(
        "--policy.builtin=hold", "--max_message_mb=1", env={"ROBOTLEARN_TOKEN": token.decode()}
    ) as server:
        good = connect(server.address, token)
        assert good.request({"type": "hello"})["session"] >= 1
        ok = {"type": "observation", "tick": 0, "episode": 0, "observation": pusht_observation(0)}
        assert good.request(ok)["actions"].shape == (16, 2)
        host, port = server.address.rsplit(":", 1)

        def attack(data: bytes) -> dict | None:
            with socket.create_connection((host, int(port)), timeout=10) as sock:
                try:  # the server may close first (it rejects from the header alone)
                    sock.sendall(data)
                    sock.shutdown(socket.SHUT_WR)  # a short frame ends here
                except OSError:
                    pass
                return _reply(sock, token)

        import pickle

        class Evil:
            def __reduce__(self):
                return (print, ("pwned",))

        cases = {
            "pickle": (pickle.dumps(Evil()) + b"\0" * 64, "not a robotlearn frame"),
            "wrong token": (wire.encode({"type": "hello"}, b"wrong-token"), "wrong or missing token"),
            "no token": (wire.encode({"type": "hello"}), "wrong or missing token"),
            "wrong version": (wire.encode({"type": "hello"}, token, version=99), "schema version 99"),
            "over cap": (
                struct.pack("<4sHHI", wire.MAGIC, wire.SCHEMA_VERSION, 0, 2 << 20) + b"\0" * 32,
                "exceeds the cap",
            ),
        }
        for name, (data, expected) in cases.items():
            reply = attack(data)
            assert reply is not None and reply["type"] == "error", name
            assert expected in reply["message"] and "Traceback" not in reply["message"], (name, reply)
        rss0 = server.rss_mb()
        rng = np.random.default_rng(0)
        valid = wire.encode({"type": "hello"}, token)
        for i in range(300):  # bench_inference.py runs 10,000
            if i % 3 == 0:
                frame = rng.bytes(int(rng.integers(1, 120)))
            else:  # authenticated garbage reaches the decoder
                payload = bytearray(wire.encode(ok, token)[wire.HEADER_SIZE :] if i % 3 == 1 else rng.bytes(64))
                for pos in rng.integers(0, len(payload), 3):
                    payload[pos] ^= 0xFF
                head = valid[:12][:8] + struct.pack("<I", len(payload))
                frame = head + wire.mac_of(token, head, bytes(payload)) + bytes(payload)
            reply = attack(frame)
            if reply is not None:
                assert reply["type"] in ("error", "welcome"), reply
                assert "Traceback" not in str(reply)
        assert server.rss_mb() - rss0 < 50
        after = good.request({**ok, "tick": 1})  # the first session is unaffected
        assert after["type"] == "actions" and after["tick"] == 1
        good.close()
        assert server.proc.poll() is None
    assert "Traceback" not in server.output()


def test_client_holds_when_the_server_dies_and_continues_after_a_restart():
    port = free_port()
    servers = [ServerProcess("--policy.builtin=hold", port=port)]
    events = {}

    def on_tick(tick, frame, sent):
        if tick == 15:
            servers[0].kill()
            events["killed"] = tick
        if tick == 20:
            threading.Thread(target=lambda: servers.append(ServerProcess("--policy.builtin=hold", port=port))).start()

    try:
        stats = run_client(f"127.0.0.1:{port}", 40, on_tick=on_tick, reconnect_s=0.05, give_up_s=120)
    finally:
        for s in servers:
            s.kill()
    assert stats.executed == 40 and stats.reconnects >= 1, stats.summary()
    assert_executed_in_order(stats)
    executed_ticks = {t for t, _ in stats.executed_log}
    empty_after_kill = [t for t, size in enumerate(stats.queue_sizes) if t > events["killed"] and size == 0]
    assert empty_after_kill, "the queue never emptied while the server was down"
    assert empty_after_kill[0] not in executed_ticks  # held at once: nothing to execute, nothing sent
    assert stats.idle_ticks >= 10  # held through the restart


class LossyProxy:
    """Forwards whole frames between one client and the server: of every 10 frames after each side's
    first (hello/welcome) one is dropped, one duplicated and one held back behind the next (reordered)."""

    def __init__(self, upstream: str):
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.listener.getsockname()[1]}"
        self.counts = {"dropped": 0, "duplicated": 0, "reordered": 0, "forwarded": 0}
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            host, port = self.upstream.rsplit(":", 1)
            server = socket.create_connection((host, int(port)))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _read(sock, n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError
            buf += chunk
        return buf

    def _pump(self, src, dst):
        held, k = None, -1
        try:
            while True:
                header = self._read(src, wire.HEADER_SIZE)
                length = struct.unpack_from("<I", header, 8)[0]
                frame = header + self._read(src, length)
                k += 1
                if k == 0:
                    dst.sendall(frame)
                elif k % 10 == 3:
                    self.counts["dropped"] += 1
                elif k % 10 == 6:
                    self.counts["duplicated"] += 1
                    dst.sendall(frame + frame)
                elif k % 10 == 8 and held is None:
                    self.counts["reordered"] += 1
                    held = frame  # sent after the next frame
                    continue
                else:
                    dst.sendall(frame)
                self.counts["forwarded"] += 1
                if held is not None:
                    dst.sendall(held)
                    held = None
        except OSError:
            for s in (src, dst):
                s.close()

    def close(self):
        self.listener.close()


def test_lossy_reordering_link_never_makes_the_robot_execute_a_stale_or_out_of_order_action():
    with ServerProcess("--policy.builtin=hold", f"--artificial_delay_s={2 / FPS}") as server:
        proxy = LossyProxy(server.address)
        try:
            stats = run_client(proxy.address, 120, request_timeout_s=0.4)
        finally:
            proxy.close()
    assert stats.executed == 120
    assert_executed_in_order(stats)
    assert proxy.counts["dropped"] and proxy.counts["duplicated"] and proxy.counts["reordered"], proxy.counts


def test_four_run_policy_clients_have_their_own_sessions_and_the_policy_is_loaded_once(tmp_path):
    with ServerProcess("--policy.builtin=hold", f"--artificial_delay_s={1 / FPS}") as server:
        clients = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "robotlearn.scripts.cli",
                    "run-policy",
                    "--robot.type=sim_pusht",
                    f"--robot.seed={i}",
                    f"--server={server.address}",
                    f"--fps={FPS}",
                    "--num_episodes=3",
                    "--episode_steps=12",
                    "--end_on_success=false",
                    f"--metrics_path={tmp_path / f'client{i}.json'}",
                    f"--report_path={tmp_path / f'client{i}.html'}",
                    *([f"--dataset.root={tmp_path / 'recorded'}", "--dataset.video=false"] if i == 0 else []),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                stdin=subprocess.DEVNULL,
            )
            for i in range(4)
        ]
        outputs = [c.communicate(timeout=240)[0] for c in clients]
        time.sleep(0.3)
        server.kill()
        log = server.output()
    assert all(c.returncode == 0 for c in clients), outputs
    assert log.count("loaded hold policy once") == 1
    opened = {line.split()[1] for line in log.splitlines() if line.startswith("session") and "opened" in line}
    assert len(opened) == 4, log
    episodes = [e for i in range(4) for e in json.loads((tmp_path / f"client{i}.json").read_text())]
    assert len(episodes) == 12 and all(e["executed"] == 12 for e in episodes)
    assert "queue size" in (tmp_path / "client0.html").read_text()
    from robotlearn.datasets import LeRobotDataset

    recorded = LeRobotDataset("local/run_policy", root=tmp_path / "recorded")
    assert recorded.meta.total_episodes == 3 and recorded.meta.total_frames == 36


def test_evaluation_through_a_server_matches_in_process(tmp_path):
    from robotlearn.evaluation.rollout import evaluate_policy
    from robotlearn.inference.remote import RemotePolicy

    policy = tiny_policy("act")
    policy.save_pretrained(tmp_path / "model")
    local = evaluate_policy(policy, n_episodes=2, max_steps=12, progress=False)
    with ServerProcess(f"--policy.path={tmp_path / 'model'}") as server:
        remote_policy = RemotePolicy(server.address)
        remote = evaluate_policy(remote_policy, n_episodes=2, max_steps=12, progress=False)
        remote_policy.close()
        # the command: `robotlearn eval --server` writes the same episodes
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "robotlearn.scripts.cli",
                "eval",
                f"--server={server.address}",
                "--eval.n_episodes=2",
                "--eval.max_steps=12",
                "--eval.n_videos=0",
                "--progress=false",
                f"--output_dir={tmp_path / 'eval'}",
            ],
            capture_output=True,
            text=True,
            timeout=180,
            stdin=subprocess.DEVNULL,
        )
    assert proc.returncode == 0, proc.stderr
    cli = json.loads((tmp_path / "eval" / "eval_info.json").read_text())
    # The same episodes; rewards equal up to the last bits (the server's matmuls may use another
    # thread count than this process, which changes float rounding, not behaviour).
    for got in (remote, cli):
        assert [(e["seed"], e["success"], e["steps"]) for e in got["per_episode"]] == [
            (e["seed"], e["success"], e["steps"]) for e in local["per_episode"]
        ]
        assert [e["sum_reward"] for e in got["per_episode"]] == pytest.approx(
            [e["sum_reward"] for e in local["per_episode"]], rel=1e-12
        )
    assert cli["policy_path"] == f"server {server.address}"
