"""The policy server: one policy, loaded once, serving action chunks to any number of robot clients.

    server = PolicyServer(policy, host="127.0.0.1", port=8765)
    server.start()            # binds (loopback by default; a network address needs a token)
    ...                       # clients connect: robotlearn run-policy --server=127.0.0.1:8765
    server.stop()

Protocol (one TCP connection = one session, messages in transport/wire.py's SCHEMA):

    client: hello                         -> server: welcome {session, policy: {type, features, ...}}
    client: reset {episode}               -> server: ok            (new episode: session state cleared)
    client: observation {tick, episode, observation, seed?, action_prefix?}
                                          -> server: actions {tick, episode, actions (n, A), timings_ms}

`action_prefix` (d, A): the actions the robot will execute for ticks tick .. tick+d-1 while the
chunk is computed; a policy trained with an action prefix (welcome's `action_prefix_capacity` > 0)
plans the rest of the chunk to continue them.
    client: ping                          -> server: pong
    anything wrong                        -> server: error {code, message}   (one line, never a traceback)

Each session has its own state (a shallow copy of the policy: the weights are shared, its queues
and observation history are not), reset per episode. Inference runs one request at a time (a
lock, no batching across clients), so the same observation and seed give the same chunk as in
process. A frame that breaks the wire format (bad magic, version, size, token) gets one error
reply and the connection is closed; other sessions are unaffected.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from robotlearn.errors import RobotlearnError
from robotlearn.transport import (
    Connection,
    ConnectionClosedError,
    TransportError,
    accept_tls,
    listen,
    serve_in_threads,
    server_tls_context,
)
from robotlearn.transport.errors import AuthenticationError, ProtocolError
from robotlearn.transport.wire import DEFAULT_MAX_MESSAGE_BYTES

log = logging.getLogger(__name__)


def policy_info(policy, n_obs_steps: int | None = None) -> dict:
    """What a client needs to know: type, features (key -> {type, shape}), observation history length."""
    cfg = policy.config
    return {
        "type": str(getattr(cfg, "type", type(policy).__name__)),
        "features": {
            k: {"type": str(v["type"]), "shape": [int(x) for x in v["shape"]]} for k, v in cfg.features.items()
        },
        "n_obs_steps": int(n_obs_steps if n_obs_steps is not None else getattr(cfg, "n_obs_steps", 1) or 1),
        "n_action_steps": int(getattr(cfg, "n_action_steps", 1) or 1),
        "action_prefix_capacity": int(getattr(cfg, "action_prefix_capacity", 0)),
    }


def action_prefix_tensor(value, info: dict, device):
    """An observation message's `action_prefix` -> (1, d, A) float32 tensor; ValueError unless it is
    a finite (d, A) array with d <= the policy's capacity and A its action width."""
    import torch

    capacity = info["action_prefix_capacity"]
    width = info["features"]["action"]["shape"][0]
    prefix = np.asarray(value)
    if capacity == 0:
        raise ValueError("this policy takes no action_prefix (it was trained without --policy.max_action_prefix)")
    if prefix.ndim != 2 or prefix.shape[1] != width or prefix.shape[0] > capacity or prefix.dtype.kind not in "fiu":
        raise ValueError(
            f"action_prefix must be a numeric (d, {width}) array with d <= {capacity}, got {prefix.dtype} "
            f"{tuple(prefix.shape)}"
        )
    if not np.isfinite(prefix).all():
        raise ValueError("action_prefix holds NaN or infinite values")
    return torch.as_tensor(prefix, dtype=torch.float32, device=device)[None]


@dataclass
class Session:
    """One connected client's state."""

    id: int
    peer: str
    policy: object
    episode: int = -1
    chunks: int = 0
    errors: int = 0
    timings: dict = field(default_factory=lambda: {"decode": [], "queue": [], "inference": [], "delay": []})


def _stack_history(observation: dict, features: dict, n_obs_steps: int, device):
    """Observation values with a leading time axis (T, ...) -> a batch {key: (1, T, ...)} built step
    by step with observation_to_batch; values without one -> a batch of one step."""
    import torch

    from robotlearn.policies.observation import observation_to_batch

    key = next(k for k in features if k != "action" and k in observation)
    has_time = n_obs_steps > 1 and np.asarray(observation[key]).ndim == len(features[key]["shape"]) + 1
    if not has_time:
        return observation_to_batch(observation, features, device)
    steps = [
        observation_to_batch({k: v[i] for k, v in observation.items()}, features, device)
        for i in range(len(observation[key]))
    ]
    return {k: torch.stack([s[k] for s in steps], dim=1) for k in steps[0]}


class PolicyServer:
    """Serves `policy` (anything with `predict_action_chunk`, `reset`, `config.features`).

    Args:
        host, port: where to listen (port 0: any free port, see `address`).
        token: shared secret; frames are authenticated with it (required for a non-loopback host).
        artificial_delay_s: extra time added after each inference (benchmarks and tests of delay).
        artificial_delay_busy: busy-wait that time (a saturated core) instead of sleeping.
        max_message_bytes: size cap per incoming frame.
        tls_cert, tls_key: serve over TLS.
        actions_per_chunk: send at most this many actions per chunk (None: the whole chunk).
        on_session: optional callback(event, session), event "opened" or "closed".
    """

    def __init__(
        self,
        policy,
        host: str = "127.0.0.1",
        port: int = 8765,
        token: bytes = b"",
        artificial_delay_s: float = 0.0,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        actions_per_chunk: int | None = None,
        on_session=None,
        artificial_delay_busy: bool = False,
    ):
        self.policy = policy
        self.on_session = on_session  # called (event "opened"/"closed", Session) from the session's thread
        self.host, self.port, self.token = host, port, token
        self.artificial_delay_s = artificial_delay_s
        self.artificial_delay_busy = artificial_delay_busy
        self.max_message_bytes = max_message_bytes
        self.tls_cert, self.tls_key = tls_cert, tls_key
        self.actions_per_chunk = actions_per_chunk
        self.info = policy_info(policy)
        self.sessions: dict[int, Session] = {}
        self.sessions_served = 0
        self.rejected_frames = 0
        self._lock = threading.Lock()  # one inference at a time
        self._next_id = 0
        self._sock = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def address(self) -> str:
        host, port = self._sock.getsockname()[:2]
        return f"{host}:{port}"

    def start(self) -> PolicyServer:
        """Binds and starts accepting clients in a background thread. Raises ConfigError (non-loopback
        without token) or TransportError (cannot bind)."""
        self._tls = server_tls_context(self.tls_cert, self.tls_key)
        self._sock = listen(self.host, self.port, self.token)
        self._sock.settimeout(0.2)
        self._threads.append(serve_in_threads(self._sock, self._stopping, self._serve_client, "policy-server-accept"))
        return self

    def serve_forever(self) -> None:
        """start() if needed, then block until stop() (or KeyboardInterrupt)."""
        if self._sock is None:
            self.start()
        while not self._stopping.wait(0.5):
            pass

    def stop(self) -> None:
        self._stopping.set()
        if self._sock is not None:
            self._sock.close()
        for thread in self._threads:  # see Learner.stop: no policy freed while the interpreter exits
            if thread is not threading.current_thread():
                thread.join(timeout=5)

    # -- one client ------------------------------------------------------------------------------
    def _serve_client(self, sock, peer: str) -> None:
        if self._tls is not None:  # the handshake in this client's thread: a stalled peer blocks no one else
            try:
                sock = accept_tls(sock, self._tls)
            except ConnectionClosedError as e:
                self.rejected_frames += 1
                log.info("%s: %s", peer, e)
                return
        conn = Connection(sock, self.token, self.max_message_bytes)
        session = None
        drain_s = 0.0  # after a frame error: let the error reply reach the peer before closing
        try:
            while not self._stopping.is_set():
                try:
                    message = conn.recv()
                except ConnectionClosedError:
                    return
                except AuthenticationError as e:
                    self.rejected_frames += 1
                    conn.send_error("unauthenticated", str(e))
                    drain_s = 0.5
                    return
                except ProtocolError as e:  # the stream cannot be trusted any more: answer once and close
                    self.rejected_frames += 1
                    conn.send_error("bad_frame", str(e))
                    drain_s = 0.5
                    return
                kind = message["type"]
                if session is None:
                    if kind != "hello":
                        conn.send_error("no_session", f"send 'hello' first, got {kind!r}")
                        return
                    session = self._open_session(peer)
                    conn.send({"type": "welcome", "session": session.id, "policy": self.info})
                    continue
                if kind == "observation":
                    self._answer_observation(conn, session, message)
                elif kind == "reset":
                    session.episode = message["episode"]
                    session.policy.reset()
                    conn.send({"type": "ok"})
                elif kind == "ping":
                    conn.send(
                        {"type": "pong", **({"request_id": message["request_id"]} if "request_id" in message else {})}
                    )
                elif kind == "bye":
                    return
                else:
                    conn.send_error("bad_message", f"a client does not send {kind!r} messages")
        except TransportError:
            return
        except Exception:
            log.exception("policy server: unexpected error in session %s", session.id if session else "-")
            conn.send_error("internal", "internal server error (see the server's log)")
        finally:
            if session is not None:
                self.sessions.pop(session.id, None)
                if self.on_session is not None:
                    self.on_session("closed", session)
            conn.close(drain_s)

    def _open_session(self, peer: str) -> Session:
        with self._lock:
            self._next_id += 1
            policy = copy.copy(self.policy)  # shares the weights; reset() gives it its own queues
            policy.reset()
            session = Session(self._next_id, peer, policy)
            self.sessions[session.id] = session
            self.sessions_served += 1
        if self.on_session is not None:
            self.on_session("opened", session)
        return session

    def _answer_observation(self, conn: Connection, session: Session, message: dict) -> None:
        import torch

        from robotlearn.policies.policy import ACTION_PREFIX_KEY

        t0 = time.perf_counter() - conn.last_decode_s  # count the frame's decoding too
        if message["episode"] != session.episode:
            session.episode = message["episode"]
            session.policy.reset()
        policy = session.policy
        try:
            batch = _stack_history(
                message["observation"], self.info["features"], self.info["n_obs_steps"], getattr(policy, "device", None)
            )
            if "task" in message:
                batch["task"] = [message["task"]]
            if "action_prefix" in message:
                batch[ACTION_PREFIX_KEY] = action_prefix_tensor(
                    message["action_prefix"], self.info, getattr(policy, "device", None)
                )
        except (RobotlearnError, ValueError, TypeError, IndexError) as e:
            session.errors += 1
            conn.send_error("bad_observation", str(e))
            return
        t1 = time.perf_counter()
        with self._lock:
            t2 = time.perf_counter()
            if "seed" in message:
                torch.manual_seed(message["seed"])
            try:
                with torch.no_grad():
                    chunk = policy.predict_action_chunk(batch)
            except RobotlearnError as e:
                session.errors += 1
                conn.send_error("bad_observation", str(e))
                return
            actions = chunk[0].detach().float().cpu().numpy()
            t3 = time.perf_counter()
            if self.artificial_delay_s > 0 and self.artificial_delay_busy:
                end = t3 + self.artificial_delay_s
                while time.perf_counter() < end:  # burn the core, as a heavy policy would
                    pass
            elif self.artificial_delay_s > 0:
                time.sleep(self.artificial_delay_s)
            t4 = time.perf_counter()
        if self.actions_per_chunk:
            actions = actions[: self.actions_per_chunk]
        timings = {
            "decode": (t1 - t0) * 1e3,
            "queue": (t2 - t1) * 1e3,
            "inference": (t3 - t2) * 1e3,
            "delay": (t4 - t3) * 1e3,
        }
        for k, v in timings.items():
            session.timings[k].append(v)
        session.chunks += 1
        reply = {
            "type": "actions",
            "tick": message["tick"],
            "episode": message["episode"],
            "actions": np.ascontiguousarray(actions, dtype=np.float32),
            "timings_ms": {**timings, "server": (time.perf_counter() - t0) * 1e3},
        }
        if "request_id" in message:
            reply["request_id"] = message["request_id"]
        conn.send(reply)
