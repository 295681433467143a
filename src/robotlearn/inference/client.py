"""The robot client: executes an action queue at the robot's rate while a policy server plans ahead.

    client = RobotClient(robot, "127.0.0.1:8765", ClientOptions(fps=10))
    client.connect()                      # hello -> welcome (the policy's features)
    stats = client.run_episode(episode=0, n_actions=300)

Every control tick (monotonic clock, `time.perf_counter`):
1. read the observation (kept for the policy's history and for recording);
2. merge the chunks that arrived (`ActionQueue`: actions for passed ticks dropped, overlaps merged);
3. if no request is in flight and the queue holds <= `threshold` actions, send the observation
   (only the keys the policy uses, images resized to its input size) tagged with its tick;
4. execute the action queued for this tick, or hold: send nothing, so the robot stays at its last
   commanded position (an idle tick);
5. sleep to the next tick.
A receiver thread reads replies. When the server vanishes the client holds (the queue drains and
nothing new is sent to the robot), reconnects every `reconnect_s` and carries on; a request with no
reply after `request_timeout_s` is given up (its late reply, if any, is older than the next chunk
and is rejected by the queue).
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from robotlearn.errors import ConfigError
from robotlearn.inference.queue import DEFAULT_MERGE, ActionQueue, check_merge
from robotlearn.transport import ConnectionClosedError, RemoteError, TransportError, connect


@dataclass
class ClientOptions:
    fps: float = 10.0
    n_action_steps: int = 8
    threshold: int | None = None  # None: len(chunk) - n_action_steps
    merge: str = DEFAULT_MERGE
    drop_stale: bool = True
    request_timeout_s: float = 2.0
    reconnect_s: float = 0.2
    give_up_s: float = 30.0
    realtime_priority: int | None = None  # SCHED_FIFO priority of the control loop (realtime.py), None: as is
    token: bytes = b""
    tls_ca: str | None = None
    seed: int | None = None  # base noise seed sent with each observation (None: the server's RNG)
    task: str | None = None
    realtime: bool = True
    sync: bool = False  # synchronous baseline: wait for each chunk with an empty queue, execute n_action_steps
    # send the queued actions for the ticks the last chunk took to arrive with each observation, when
    # the policy was trained to continue them (welcome's action_prefix_capacity > 0)
    action_prefix: bool = True


@dataclass
class EpisodeStats:
    episode: int
    ticks: int = 0
    executed: int = 0
    idle_ticks: int = 0  # holds after the episode's first chunk arrived
    first_chunk_ticks: int = 0
    wall_s: float = 0.0
    reconnects: int = 0
    chunks: int = 0
    rejected_chunks: int = 0
    dropped_stale: int = 0
    queue_sizes: list = field(default_factory=list)  # per tick, before executing
    tick_starts: list = field(default_factory=list)  # perf_counter of each tick start
    executed_log: list = field(default_factory=list)  # (tick, source observation tick)
    per_chunk: list = field(default_factory=list)  # dicts of per-stage times, ms, and bytes
    success: bool = False

    def summary(self) -> str:
        active = max(1, self.ticks - self.first_chunk_ticks)
        return (
            f"episode {self.episode}: {self.executed} actions in {self.ticks} ticks ({self.wall_s:.1f} s), "
            f"idle {self.idle_ticks} ({100 * self.idle_ticks / active:.1f}% after the first chunk), "
            f"{self.chunks} chunks, {self.reconnects} reconnects"
        )


def resize_image(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """(H, W, C) uint8 -> (height, width, C) uint8 (bilinear, PIL). Unchanged if already that size."""
    if image.shape[:2] == (height, width):
        return image
    from PIL import Image

    return np.asarray(Image.fromarray(np.ascontiguousarray(image)).resize((width, height), Image.BILINEAR))


def policy_inputs(frame: dict, features: dict) -> dict:
    """A dataset-keyed observation frame -> only what the policy takes: images resized to its
    (C, H, W) input and sent as (H, W, C) uint8, vectors as float32. A policy trained on another
    single camera name gets the frame's single camera. Raises ConfigError when a key is missing."""
    images = [k for k, v in frame.items() if isinstance(v, np.ndarray) and v.ndim == 3]
    out = {}
    for key, ft in features.items():
        if key == "action":
            continue
        source = key if key in frame else (images[0] if ft["type"] == "VISUAL" and len(images) == 1 else None)
        if source is None:
            raise ConfigError(f"the policy needs {key!r} but the robot's observation gives {sorted(frame)}")
        value = np.asarray(frame[source])
        if ft["type"] == "VISUAL":
            c, h, w = ft["shape"]
            value = resize_image(value.astype(np.uint8, copy=False), h, w)
        else:
            value = value.astype(np.float32).reshape(-1)
        out[key] = value
    return out


class RobotClient:
    """Drives a connected `robot` with chunks from the server at `address` ('host:port')."""

    def __init__(self, robot, address: str, options: ClientOptions | None = None):
        self.robot = robot
        self.address = address
        self.options = options or ClientOptions()
        check_merge(self.options.merge)
        if self.options.n_action_steps < 1:
            raise ConfigError(f"--n_action_steps={self.options.n_action_steps} must be >= 1")
        self.conn = None
        self.info: dict | None = None
        self._inbox: collections.deque = collections.deque()
        self._connected = threading.Event()
        self._reconnecting = False
        self._last_attempt = 0.0
        self.reconnects = 0
        self._request_id = 0
        self._chunk_len: int | None = None

    # -- connection ------------------------------------------------------------------------------
    def connect(self, timeout_s: float = 5.0) -> dict:
        """Connects and says hello; returns the policy info. Raises TransportError."""
        conn = connect(self.address, self.options.token, timeout_s=timeout_s, tls_ca=self.options.tls_ca)
        welcome = conn.request({"type": "hello", "client": type(self.robot).__name__})
        if welcome["type"] != "welcome":
            conn.close()
            raise TransportError(f"server answered hello with {welcome['type']!r}")
        self.info = welcome["policy"]
        self.conn = conn
        self._connected.set()
        threading.Thread(target=self._receive, args=(conn,), daemon=True, name="robot-client-recv").start()
        return self.info

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def _receive(self, conn) -> None:
        while True:
            try:
                message = conn.recv()
            except TransportError as e:
                if conn is self.conn:
                    self._connected.clear()
                    self._inbox.append({"type": "_lost", "error": str(e)})
                return
            message["_received"] = time.perf_counter()
            message["_decode_ms"] = conn.last_decode_s * 1e3
            message["_bytes"] = conn.last_frame_bytes
            self._inbox.append(message)

    def _reconnect_async(self) -> None:
        """One background connection attempt, at most every `reconnect_s` seconds."""
        now = time.perf_counter()
        if self._reconnecting or now - self._last_attempt < self.options.reconnect_s:
            return
        self._reconnecting = True
        self._last_attempt = now

        def attempt():
            try:
                self.connect(timeout_s=max(0.05, min(2.0, self.options.reconnect_s)))
                self.reconnects += 1
            except TransportError:
                pass
            finally:
                self._reconnecting = False

        threading.Thread(target=attempt, daemon=True, name="robot-client-reconnect").start()

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.send({"type": "bye"})
            except TransportError:
                pass
            self.conn.close()
        self._connected.clear()

    # -- the control loop ------------------------------------------------------------------------
    def _observe(self, features_hw: dict) -> dict:
        from robotlearn.recording.record_loop import build_dataset_frame
        from robotlearn.robots.sim_robot import SimRobot

        obs = self.robot.get_observation()
        frame = build_dataset_frame(features_hw, obs, "observation")
        if isinstance(self.robot, SimRobot):  # the simulator's state, read before the action changes it
            frame.update(self.robot.get_extra_observation())
        return frame

    def run_episode(
        self, episode: int, n_actions: int, max_ticks: int | None = None, on_tick=None, end_on_success: bool = False
    ) -> EpisodeStats:
        """Runs until `n_actions` actions were executed (see `_run_episode`), under real-time
        scheduling when `realtime_priority` is set."""
        from robotlearn.inference.realtime import realtime_scheduling

        with realtime_scheduling(self.options.realtime_priority):
            return self._run_episode(episode, n_actions, max_ticks, on_tick, end_on_success)

    def _run_episode(
        self, episode: int, n_actions: int, max_ticks: int | None = None, on_tick=None, end_on_success: bool = False
    ) -> EpisodeStats:
        """Runs until `n_actions` actions were executed (or `max_ticks` ticks, or a simulated robot's
        success with end_on_success). `on_tick(tick, frame, sent_action_or_None)` is called every tick
        (the recorder). Raises TransportError if no server answers for `give_up_s` seconds."""
        from robotlearn.recording.features import hw_to_dataset_features
        from robotlearn.recording.record_loop import policy_action_to_dict, precise_sleep_until
        from robotlearn.robots.sim_robot import SimRobot

        if self.info is None:
            self.connect()
        opts = self.options
        features_hw = {
            **hw_to_dataset_features(self.robot.action_features, "action"),
            **hw_to_dataset_features(self.robot.observation_features, "observation"),
        }
        action_names = features_hw["action"]["names"]
        n_hist = int(self.info.get("n_obs_steps", 1))
        history: collections.deque = collections.deque(maxlen=n_hist)
        if isinstance(self.robot, SimRobot):
            self.robot.reset_episode()
        queue = ActionQueue(merge=opts.merge, drop_stale=opts.drop_stale)
        stats = EpisodeStats(episode=episode)
        self._inbox.clear()
        if self.connected:
            try:
                self.conn.send({"type": "reset", "episode": episode})
            except TransportError:
                self._connected.clear()
        in_flight = None  # (request id, tick, perf_counter sent, encode ms, bytes, action prefix length)
        got_first = False
        measured_delay = 0  # ticks the last accepted chunk took to arrive
        capacity = int(self.info.get("action_prefix_capacity", 0)) if opts.action_prefix and not opts.sync else 0
        lost_since = None
        reconnects0 = self.reconnects

        def drain(tick):
            """Merges the replies that arrived."""
            nonlocal in_flight, got_first, measured_delay
            while self._inbox:
                message = self._inbox.popleft()
                kind = message["type"]
                if kind == "_lost":
                    in_flight = None
                elif kind == "actions":
                    if message["episode"] != episode:
                        continue
                    t_merge = time.perf_counter()
                    actions = message["actions"][: opts.n_action_steps] if opts.sync else message["actions"]
                    # sync: the robot waited, so the chunk starts now (the policy-in-the-loop baseline)
                    obs_tick = tick if opts.sync else message["tick"]
                    result = queue.add_chunk(obs_tick, actions, tick)
                    merge_ms = (time.perf_counter() - t_merge) * 1e3
                    if in_flight is not None and message.get("request_id") == in_flight[0]:
                        rtt_ms = (message["_received"] - in_flight[2]) * 1e3
                        server = message["timings_ms"]
                        stats.per_chunk.append(
                            {
                                "encode": in_flight[3],
                                "wire": max(0.0, rtt_ms - server.get("server", 0.0)),
                                "decode": message["_decode_ms"],
                                "merge": merge_ms,
                                "rtt": rtt_ms,
                                "server_decode": server.get("decode", 0.0),
                                "queue": server.get("queue", 0.0),
                                "inference": server.get("inference", 0.0),
                                "delay": server.get("delay", 0.0),
                                "obs_bytes": in_flight[4],
                                "reply_bytes": message["_bytes"],
                                "delay_ticks": tick - message["tick"],
                                "prefix": in_flight[5],
                                "first": not got_first,
                            }
                        )
                        in_flight = None
                    if result.accepted:
                        got_first = True
                        measured_delay = tick - obs_tick
                        stats.chunks += 1
                        stats.dropped_stale += result.dropped_stale
                        self._chunk_len = len(message["actions"])
                    else:
                        stats.rejected_chunks += 1
                elif kind == "error":
                    if message["code"] in ("bad_observation", "internal", "bad_message", "no_session"):
                        raise RemoteError(message["code"], message["message"])
                    in_flight = None

        period = 1.0 / opts.fps
        start = next_t = time.perf_counter()
        tick = 0
        sync_shift = 0.0  # sync: seconds this tick waited for its chunk
        while stats.executed < n_actions and (max_ticks is None or tick < max_ticks):
            now = time.perf_counter()
            stats.tick_starts.append(now)
            frame = self._observe(features_hw)
            inputs = policy_inputs(frame, self.info["features"])
            history.append(inputs)
            while len(history) < n_hist:
                history.appendleft(inputs)  # the first step of an episode is repeated
            drain(tick)
            # the connection
            if not self.connected:
                lost_since = lost_since or now
                if now - lost_since > opts.give_up_s:
                    raise ConnectionClosedError(
                        f"no policy server at {self.address} for {opts.give_up_s:g} s "
                        "(--give_up_s); is `robotlearn serve-policy` running?"
                    )
                self._reconnect_async()  # one attempt at a time, in the background
            else:
                if lost_since is not None:
                    lost_since = None
                    try:
                        self.conn.send({"type": "reset", "episode": episode})  # a fresh session: same episode
                    except TransportError:
                        self._connected.clear()
            if in_flight is not None and now - in_flight[2] > opts.request_timeout_s:
                in_flight = None  # lost (dropped message or dead server); its late reply is rejected by tick
            size = queue.size(tick)
            stats.queue_sizes.append(size)
            threshold = opts.threshold
            if threshold is None:
                threshold = 0 if self._chunk_len is None else self._chunk_len - opts.n_action_steps
            if opts.sync:
                threshold = 0
            if self.connected and in_flight is None and (size <= threshold or not got_first and size == 0):
                prefix = queue.upcoming(tick, min(capacity, measured_delay)) if capacity else None
                in_flight = self._send_observation(history, n_hist, tick, episode, prefix)
                if opts.sync and in_flight is not None:
                    # the policy in the loop: the robot waits for the chunk, then acts in this same tick;
                    # the tick schedule moves by exactly the time waited (the policy's cost, nothing else)
                    waited = time.perf_counter()
                    while (
                        in_flight is not None
                        and self.connected
                        and time.perf_counter() - in_flight[2] < opts.request_timeout_s
                    ):
                        if self._inbox:
                            drain(tick)
                        else:
                            time.sleep(0.0002)
                    wait_s = time.perf_counter() - waited
                    waited_ticks = int(round(wait_s * opts.fps))
                    sync_shift += wait_s
                    stats.idle_ticks += waited_ticks if got_first and stats.chunks > 1 else 0
                    stats.first_chunk_ticks += waited_ticks if stats.chunks <= 1 else 0
            # execute or hold
            source = queue.source_of(tick)
            action = queue.pop(tick)
            sent = None
            if action is None:
                if got_first:
                    stats.idle_ticks += 1
                else:
                    stats.first_chunk_ticks += 1
            else:
                sent = self.robot.send_action(policy_action_to_dict(action, action_names))
                stats.executed += 1
                stats.executed_log.append((tick, source))
            if on_tick is not None:
                on_tick(tick, frame, sent)
            tick += 1
            if (
                end_on_success
                and sent is not None
                and isinstance(self.robot, SimRobot)
                and (self.robot.last_info or {}).get("is_success")
            ):
                stats.success = True
                break
            next_t += period + sync_shift
            sync_shift = 0.0
            if opts.realtime:
                if time.perf_counter() > next_t + period:
                    next_t = time.perf_counter()  # more than a tick behind: restart the schedule from now
                else:
                    precise_sleep_until(next_t)  # a late tick keeps the schedule: the rate stays fps
        stats.ticks = tick
        stats.wall_s = time.perf_counter() - start
        stats.reconnects = self.reconnects - reconnects0
        return stats

    def _send_observation(self, history, n_hist: int, tick: int, episode: int, prefix: np.ndarray | None = None):
        t0 = time.perf_counter()
        if n_hist > 1:
            observation = {k: np.stack([h[k] for h in history]) for k in history[-1]}
        else:
            observation = dict(history[-1])
        self._request_id += 1
        message = {
            "type": "observation",
            "tick": tick,
            "episode": episode,
            "observation": observation,
            "request_id": self._request_id,
        }
        if self.options.seed is not None:
            message["seed"] = int(self.options.seed + episode * 100_003 + tick)
        if self.options.task:
            message["task"] = self.options.task
        if prefix is not None:
            message["action_prefix"] = np.ascontiguousarray(prefix, dtype=np.float32)
        from robotlearn.transport import wire

        frame = wire.encode(message, self.conn.token)
        encode_ms = (time.perf_counter() - t0) * 1e3
        sent_at = time.perf_counter()
        try:
            self.conn.send_frame(frame)
        except TransportError:
            self._connected.clear()
            return None
        return (self._request_id, tick, sent_at, encode_ms, len(frame), 0 if prefix is None else len(prefix))
