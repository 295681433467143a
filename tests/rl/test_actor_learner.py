"""Actor and learner as two processes on loopback (Pendulum, a tiny SAC): either one SIGKILLed
mid-run and restarted loses nothing that was acknowledged, no batch is stored twice, and the
learner resumes its checkpoint; bad input is refused without stopping the learner."""

import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch

from robotlearn.rl.learner import Learner, LearnerConfig
from robotlearn.rl.streams import StepLog
from robotlearn.transport import Connection, connect, wire

TINY = ["--env.type=gym", "--env.id=Pendulum-v1"]
LEARNER = [
    *TINY,
    "--policy.hidden_dims=[32]",
    "--batch_size=32",
    "--learning_starts=64",
    "--checkpoint_every_s=0.3",
    "--publish_every_s=0.2",
]


class Proc:
    def __init__(self, command: str, *args: str):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "robotlearn.scripts.cli", command, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_for(self, pattern: str, timeout_s: float = 60.0) -> re.Match:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in list(self.lines):
                m = re.search(pattern, line)
                if m:
                    return m
            if self.proc.poll() is not None and not any(re.search(pattern, x) for x in self.lines):
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in output:\n" + "".join(self.lines))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)


def batches(log: StepLog) -> list[tuple[int, int, int, int]]:
    """(batch, episode, first step index, n steps) of every stored batch, in order."""
    return [(m["batch"], m["episode"], m["start"], len(m["steps"]["action"])) for _, m in log.replay()]


def wait_batches(log: StepLog, n: int, timeout_s: float = 60.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (log.dir / "actor0").is_dir() and len(list((log.dir / "actor0").glob("*.safetensors"))) >= n:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} batches after {timeout_s} s")


def settled_batches(log: StepLog, quiet_s: float = 1.0, timeout_s: float = 30.0) -> list[tuple[int, int, int, int]]:
    """The stored batches once the log has stopped growing: a SIGKILLed actor's last message can
    still be in the socket buffer, and the learner stores it (and acknowledges nobody) after the kill."""

    def stored() -> int:  # counted from the file names, not by reading every batch again
        return len(list((log.dir / "actor0").glob("*.safetensors")))

    deadline, seen, since = time.monotonic() + timeout_s, stored(), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet_s:
        time.sleep(0.1)
        if (now := stored()) != seen:
            seen, since = now, time.monotonic()
    return batches(log)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_killing_either_process_loses_nothing_acknowledged(tmp_path):
    out, port = tmp_path / "rl", free_port()
    log = StepLog(out / "steps")
    learner = Proc("rl-learner", *LEARNER, f"--output_dir={out}", f"--port={port}")
    learner.wait_for("listening on")
    actor = Proc(
        "rl-actor", *TINY, f"--learner=127.0.0.1:{port}", "--steps=100000", "--steps_per_message=4", "--reconnect_s=0.1"
    )
    try:
        wait_batches(log, 40)
        state, deadline = out / "checkpoint" / "learner_state.json", time.monotonic() + 60
        while time.monotonic() < deadline and not (state.is_file() and json.loads(state.read_text())["updates"] > 0):
            time.sleep(0.05)
        learner.kill()  # mid-run: the actor keeps its unacknowledged batch and reconnects
        stored = batches(log)
        learner = Proc("rl-learner", *LEARNER, f"--output_dir={out}", f"--port={port}")
        resumed = learner.wait_for(r"\((\d+) transitions, (\d+) updates so far\)")
        # every stored step but the last of each still-open episode is a transition again
        open_episodes = len({ep for _, ep, _, _ in stored})
        assert int(resumed.group(1)) >= sum(n for *_, n in stored) - open_episodes
        assert int(resumed.group(2)) > 0  # the checkpoint's weights, optimizer and counters
        wait_batches(log, len(stored) + 20)  # the same actor continues after reconnecting
        actor.kill()
        before_restart = settled_batches(log)
        actor = Proc("rl-actor", *TINY, f"--learner=127.0.0.1:{port}", "--steps=40", "--steps_per_message=4")
        actor.wait_for(r"done: 40 steps", timeout_s=180)  # a fresh actor process: slow under load
        after = batches(log)
    finally:
        actor.kill()
        learner.kill()
    numbers = [b for b, *_ in after]
    assert numbers == list(range(len(numbers)))  # nothing acknowledged lost, nothing stored twice
    assert after[: len(before_restart)] == before_restart
    # the restarted actor began a new episode, and sent all 40 of its steps
    new = after[len(before_restart) :]
    assert new[0][2] == 0 and new[0][1] not in {ep for _, ep, _, _ in before_restart}
    assert sum(n for *_, n in new) == 40
    for (_, ep_a, start_a, n_a), (_, ep_b, start_b, _) in zip(after, after[1:]):
        if ep_a == ep_b:
            assert start_b == start_a + n_a  # each episode's steps arrive in order, without gaps


def test_bad_input_is_refused_and_the_learner_keeps_learning(tmp_path):
    token = b"learner-token"
    cfg = LearnerConfig(
        output_dir=str(tmp_path / "rl"),
        port=0,
        learning_starts=8,
        batch_size=8,
        max_message_mb=1,
        checkpoint_every_s=60,
    )
    learner = Learner(cfg, token=token).start()
    try:
        host, port = learner.address.rsplit(":", 1)

        def attack(data: bytes):
            with socket.create_connection((host, int(port)), timeout=10) as sock:
                try:
                    sock.sendall(data)
                    sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                conn = Connection(sock, token)
                try:
                    return conn.recv()
                except Exception:
                    return None

        import pickle

        class Evil:
            def __reduce__(self):
                return (os.system, ("echo pwned",))

        for data, expected in {
            pickle.dumps(Evil()) + b"\0" * 64: "not a robotlearn frame",
            wire.encode({"type": "actor_hello", "actor": "x"}, b"wrong"): "wrong or missing token",
            struct.pack("<4sHHI", wire.MAGIC, wire.SCHEMA_VERSION, 0, 2 << 20) + b"\0" * 32: "exceeds the cap",
        }.items():
            reply = attack(data)
            assert reply is not None and reply["type"] == "error" and expected in reply["message"], reply

        good = connect(learner.address, token)
        assert good.request({"type": "actor_hello", "actor": "a"})["type"] == "learner_welcome"
        bad_shape = {
            "type": "steps",
            "batch": 0,
            "episode": 0,
            "start": 0,
            "steps": {
                "observation.state": np.zeros((2, 5), np.float32),
                "action": np.zeros((2, 1), np.float32),
                "reward": np.zeros(2, np.float32),
                "terminated": np.zeros(2, bool),
                "truncated": np.zeros(2, bool),
                "intervention": np.zeros(2, bool),
            },
        }
        reply = good.send(bad_shape) and good.recv()
        assert reply["type"] == "error" and "observation.state" in reply["message"]
        steps = {
            **bad_shape["steps"],
            "observation.state": np.random.default_rng(0).normal(size=(20, 3)).astype(np.float32),
            "action": np.zeros((20, 1), np.float32),
            "reward": np.zeros(20, np.float32),
            "terminated": np.zeros(20, bool),
            "truncated": np.zeros(20, bool),
            "intervention": np.zeros(20, bool),
        }
        assert good.request({**bad_shape, "steps": steps})["type"] == "ack"  # the session survived its bad message
        thread = threading.Thread(target=learner.run)
        learner.cfg.max_transitions = 19
        thread.start()
        thread.join(180)  # generous: under a loaded make test the learner can take over a minute
        assert learner.updates >= 19 and learner.rejected == 4
    finally:
        learner.stop()


def _pendulum_steps(n: int, seed: int) -> dict:
    return {
        "observation.state": np.random.default_rng(seed).normal(size=(n, 3)).astype(np.float32),
        "action": np.zeros((n, 1), np.float32),
        "reward": np.zeros(n, np.float32),
        "terminated": np.zeros(n, bool),
        "truncated": np.zeros(n, bool),
        "intervention": np.zeros(n, bool),
    }


def test_a_reconnect_of_the_same_actor_run_keeps_its_open_episode_a_new_run_waits_then_ends_it(tmp_path):
    # the CI once lost one transition: the weights poller reconnected mid-episode, and its hello
    # ended the episode's pending step as if the actor had restarted
    learner = Learner(LearnerConfig(output_dir=str(tmp_path / "rl"), port=0, checkpoint_every_s=60), token=b"").start()
    try:
        sender = connect(learner.address, b"")
        assert sender.request({"type": "actor_hello", "actor": "a", "run": "r1"})["type"] == "learner_welcome"
        batch = {"type": "steps", "episode": 7}
        assert sender.request({**batch, "batch": 0, "start": 0, "steps": _pendulum_steps(3, 0)})["type"] == "ack"
        assert learner.streams.transitions == 2  # the third waits for its next observation
        poller = connect(learner.address, b"")
        assert poller.request({"type": "actor_hello", "actor": "a", "run": "r1"})["type"] == "learner_welcome"
        assert sender.request({**batch, "batch": 1, "start": 3, "steps": _pendulum_steps(2, 1)})["type"] == "ack"
        assert learner.streams.transitions == 4  # step 2 found its next observation after the reconnect
        # another run under the same name is refused while this one is connected (their batch numbers
        # would collide and one's batches be dropped as the other's resends) ...
        from robotlearn.transport.errors import RemoteError

        other = connect(learner.address, b"")
        with pytest.raises(RemoteError, match="its own --actor name"):
            other.request({"type": "actor_hello", "actor": "a", "run": "r2"})
        # ... and let in once its connections closed: a restart, which ends episode 7
        sender.close()
        poller.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                reply = other.request({"type": "actor_hello", "actor": "a", "run": "r2"})
                break
            except RemoteError:
                assert time.monotonic() < deadline, "the closed run's connections were never released"
                time.sleep(0.05)
        assert reply["type"] == "learner_welcome" and reply["last_batch"] == 1
        assert other.request({**batch, "batch": 2, "start": 5, "steps": _pendulum_steps(1, 2)})["type"] == "ack"
        assert learner.streams.transitions == 4  # step 4 has no next observation: the new run ended episode 7
    finally:
        learner.stop()


@pytest.fixture(autouse=True)
def _no_stray_token(monkeypatch):
    monkeypatch.delenv("ROBOTLEARN_TOKEN", raising=False)


def test_published_weights_reach_the_actor_within_2_seconds(tmp_path):
    from robotlearn.rl.actor import Actor, ActorConfig

    learner = Learner(LearnerConfig(output_dir=str(tmp_path / "rl"), port=0), token=b"").start()
    actor = Actor(ActorConfig(learner=learner.address, weights_poll_s=0.25), token=b"")
    try:
        conn, welcome = actor._connect()
        conn.close()
        actor._build_policy(welcome["policy"])
        threading.Thread(target=actor._weights_poller, daemon=True).start()
        with torch.no_grad():
            for p in learner.policy.actor.parameters():
                p.add_(1.0)
        t0 = time.monotonic()
        learner.publish()
        while actor._new_weights is None and time.monotonic() - t0 < 5:
            time.sleep(0.01)
        assert time.monotonic() - t0 <= 2.0
        actor._load_new_weights()
        assert actor.version == learner.version == 1
        for a, b in zip(actor.policy.state_dict().values(), learner.policy.state_dict().values()):
            assert torch.equal(a, b)
    finally:
        actor._stopping.set()
        learner.stop()


def test_pusht_from_pixels_streams_uint8_frames_channels_first(tmp_path):
    from robotlearn.envs import PushTEnvConfig
    from robotlearn.policies.sac.config import SACConfig
    from robotlearn.rl.actor import Actor, ActorConfig

    cfg = LearnerConfig(
        env=PushTEnvConfig(image_size=32),
        policy=SACConfig(encoder_channels=8, hidden_dims=[16]),
        output_dir=str(tmp_path / "rl"),
        port=0,
        learning_starts=20,
        batch_size=8,
        max_transitions=41,
    )
    learner = Learner(cfg, token=b"").start()
    thread = threading.Thread(target=learner.run)
    thread.start()
    try:
        result = Actor(
            ActorConfig(env=PushTEnvConfig(image_size=32), learner=learner.address, steps=41, max_episode_steps=20),
            token=b"",
        ).run()
        thread.join(180)  # generous: under a loaded make test the learner can take over a minute
    finally:
        learner.stop()
    # two whole episodes, and the step the actor stopped after: a truncated transition (bootstrapped, not done)
    assert result["episodes"] == 2 and learner.streams.transitions == 41 and not thread.is_alive()
    assert int(learner.online.done[learner.online.valid].sum()) == 0
    assert learner.online.obs["observation.images.top"].dtype == torch.uint8
    assert learner.online.obs["observation.images.top"].shape[1:] == (3, 32, 32)
    assert learner.updates >= 20
    frames = learner.online.sample(4)["observation.images.top"]
    assert frames.float().std() > 0  # real pixels, not an empty buffer
