"""The RL learner: trains SAC on the steps actors stream in, and publishes its weights.

    robotlearn rl-learner --env.type=gym --env.id=Pendulum-v1 --output_dir=outputs/rl/pendulum
    robotlearn rl-actor --env.type=gym --env.id=Pendulum-v1 --learner=127.0.0.1:8766

Two processes (HIL-SERL's shape, on robotlearn's one wire: `robotlearn.transport`):

    actor --(steps, small batches, one unacknowledged at a time)--> learner    (ack after it is on disk)
    actor <--(weights as safetensors, polled every ~0.25 s)-------- learner    (new version every publish_every_s)

The learner's threads: one per connected actor (validate, write to the step log, assemble
transitions, ack), and the training loop here: `utd_ratio` updates per received transition once
`learning_starts` transitions are in, batches of `batch_size` mixing demos + interventions
(`demo_fraction`) with online transitions. Every `checkpoint_every_s` it writes the policy (with
its target networks and temperature), the optimizer and its counters to `output_dir/checkpoint`
(atomically); a restarted learner loads them and replays the step log into its buffers.
Episodes (return, success, interventions) go to `episodes.jsonl`, losses to `training.jsonl`, and
`report.html` plots them against time at every checkpoint.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from robotlearn.envs import EnvConfig, GymEnvConfig, make_env
from robotlearn.errors import ConfigError, RobotlearnError
from robotlearn.policies.sac.config import SACConfig
from robotlearn.rl.buffer import ReplayBuffer, mixed_batch
from robotlearn.rl.report import write_rl_report
from robotlearn.rl.streams import StepLog, StreamAssembler, check_steps
from robotlearn.transport import (
    Connection,
    ConnectionClosedError,
    TransportError,
    listen,
    resolve_token,
    serve_in_threads,
)
from robotlearn.transport.errors import AuthenticationError, ProtocolError

log = logging.getLogger(__name__)
CHECKPOINT_DIR = "checkpoint"


@dataclass
class LearnerConfig:
    env: EnvConfig = field(default_factory=GymEnvConfig)
    """The task (its observation and action spaces define the policy): --env.type=gym --env.id=..., or pusht."""
    policy: SACConfig = field(default_factory=SACConfig)
    """SAC hyper-parameters (--policy.<name>)."""
    output_dir: str = "outputs/rl"
    """Checkpoint, step log and metrics go here; an existing one is resumed."""
    host: str = "127.0.0.1"
    """Address to listen on (a non-loopback one needs a token)."""
    port: int = 8766
    """TCP port (0: any free port)."""
    token_file: str | None = None
    """File holding the shared token (else $ROBOTLEARN_TOKEN); required off loopback."""
    batch_size: int = 256
    """Transitions per update."""
    utd_ratio: float = 1.0
    """Updates per received transition (update-to-data ratio)."""
    learning_starts: int = 1000
    """Transitions to collect before the first update (the actor acts randomly until the first weights)."""
    buffer_capacity: int = 100_000
    """Frames in each replay buffer (online, and demos + interventions)."""
    demo_root: str | None = None
    """A LeRobotDataset of demonstrations, loaded into the demo buffer (with next.reward, next.done)."""
    demo_fraction: float = 0.5
    """Share of every batch drawn from demos + interventions (RLPD's symmetric sampling: 0.5)."""
    publish_every_s: float = 0.5
    """Publish new weights to actors at most this often, seconds."""
    checkpoint_every_s: float = 30.0
    """Write a checkpoint this often, seconds (and at the end)."""
    max_transitions: int | None = None
    """Stop once this many transitions arrived and their updates are done (None: run until stopped)."""
    seed: int = 0
    """Seed of the networks and of batch sampling."""
    num_threads: int = 1
    """torch threads for training (set by the command; the library leaves the process's setting alone)."""
    max_message_mb: float = 64.0
    """Largest message accepted, MiB; bigger frames are refused from their header."""
    export_root: str | None = None
    """At the end, also write every received step as a LeRobotDataset here (a new folder)."""
    demo_reward_classifier: str | None = None
    """Reward the demos by this reward classifier's verdict on their next frames (and end them there),
    as `rl-actor --reward_classifier` rewards the online steps, instead of by their recorded rewards."""
    demo_reward: str = "recorded"
    """Demos' reward: recorded (their next.reward) or success (1 where their next.success is true, else 0:
    a sparse task's reward, e.g. with --env.reward=success, for demos recorded with a dense one)."""


def weights_bytes(policy) -> np.ndarray:
    """The policy's state dict as safetensors bytes, in a uint8 array (the wire carries arrays)."""
    from safetensors.torch import save

    state = {k: v.detach().cpu().contiguous() for k, v in policy.state_dict().items()}
    return np.frombuffer(save(state), dtype=np.uint8)


class Learner:
    """See the module docstring. `start()` listens; `run()` trains until `max_transitions` or `stop()`."""

    def __init__(self, cfg: LearnerConfig, token: bytes | None = None):
        from robotlearn.policies.factory import make_policy_from_config

        self.cfg = cfg
        self.token = resolve_token(cfg.token_file) if token is None else token
        self.output_dir = Path(cfg.output_dir)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(cfg.seed)
        env = make_env(cfg.env, max_steps=None)
        meta = env.dataset_meta()
        env.close()
        self.fps = int(getattr(meta, "fps", 10))
        self.policy = make_policy_from_config(cfg.policy, meta)
        self.policy.generator = torch.Generator().manual_seed(cfg.seed)
        self.optimizer = torch.optim.Adam(self.policy.param_groups())
        self.shapes = {k: tuple(ft["shape"]) for k, ft in self.policy.config.features.items() if k != "action"}
        self.action_dim = self.policy.config.action_dim
        buffer_features = {k: {"shape": list(s), "dtype": meta.features[k]["dtype"]} for k, s in self.shapes.items()}
        self.online = ReplayBuffer(buffer_features, self.action_dim, cfg.buffer_capacity)
        self.demos = ReplayBuffer(buffer_features, self.action_dim, cfg.buffer_capacity)
        self.streams = StreamAssembler(self.online, self.demos)
        self.step_log = StepLog(self.output_dir / "steps")
        self.sample_generator = torch.Generator().manual_seed(cfg.seed + 1)
        self.updates = 0
        self.version = 0
        self.metrics: dict = {}
        self._lock = threading.Lock()  # buffers and streams: actor threads add, the loop samples
        self._published = (0, weights_bytes(self.policy))
        self._last_batch: dict[str, int] = {}
        self._actor_runs: dict[str, str | None] = {}  # actor -> the run id of its last hello
        self._connected: dict[str, tuple] = {}  # actor -> (run id, its open connections)
        self._stopping = threading.Event()
        self._sock = None
        self._accepting: threading.Thread | None = None
        self.rejected = 0
        self._resume()
        if cfg.demo_root:
            from robotlearn.rl.dataset_io import load_dataset

            n = load_dataset(self.demos, cfg.demo_root, reward=cfg.demo_reward)
            log.info("loaded %d demo transitions from %s", n, cfg.demo_root)
            if cfg.demo_reward_classifier:
                from robotlearn.rl.classifier_reward import reward_by_classifier

                rewarded = reward_by_classifier(self.demos, cfg.demo_reward_classifier)
                log.info("the classifier rewarded %d of them", rewarded)

    # -- state -------------------------------------------------------------------------------------
    def _resume(self) -> None:
        checkpoint = self.output_dir / CHECKPOINT_DIR
        if (checkpoint / "learner_state.json").is_file():
            from safetensors.torch import load_file

            from robotlearn.training.checkpoint import load_optimizer

            self.policy.load_state_dict(load_file(str(checkpoint / "pretrained_model" / "model.safetensors")))
            load_optimizer(self.optimizer, checkpoint)
            state = json.loads((checkpoint / "learner_state.json").read_text())
            self.updates, self.version = state["updates"], state["version"]
            self._published = (self.version, weights_bytes(self.policy))
        for actor, message in self.step_log.replay():
            self.streams.add(
                (actor, message["episode"]), message["start"], message["steps"], list(self.shapes), message["final"]
            )
            self._last_batch[actor] = message["batch"]

    def save_checkpoint(self) -> Path:
        """policy + targets + temperature (pretrained_model/), optimizer, counters; atomic."""
        from robotlearn.training.checkpoint import save_optimizer

        final = self.output_dir / CHECKPOINT_DIR
        tmp = self.output_dir / (CHECKPOINT_DIR + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        self.policy.save_pretrained(tmp / "pretrained_model")
        save_optimizer(self.optimizer, tmp)
        state = {"updates": self.updates, "version": self.version, "transitions": self.streams.transitions}
        (tmp / "learner_state.json").write_text(json.dumps(state))
        old = self.output_dir / (CHECKPOINT_DIR + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        tmp.rename(final)
        shutil.rmtree(old, ignore_errors=True)
        return final

    # -- network ---------------------------------------------------------------------------------
    @property
    def address(self) -> str:
        host, port = self._sock.getsockname()[:2]
        return f"{host}:{port}"

    def start(self) -> Learner:
        self._sock = listen(self.cfg.host, self.cfg.port, self.token)
        self._sock.settimeout(0.2)
        self._accepting = serve_in_threads(self._sock, self._stopping, self._serve_actor, "rl-learner-accept")
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._sock is not None:
            self._sock.close()
        accepting = self._accepting
        # joined, so that its last reference to the learner is not dropped (tensors freed) while the
        # interpreter exits: that aborts the process ("terminate called without an active exception")
        if accepting is not None and accepting is not threading.current_thread():
            accepting.join(timeout=5)

    def _serve_actor(self, sock, peer: str) -> None:
        conn = Connection(sock, self.token, int(self.cfg.max_message_mb * 2**20))
        actor = None
        try:
            while not self._stopping.is_set():
                try:
                    message = conn.recv()
                except ConnectionClosedError:
                    return
                except (AuthenticationError, ProtocolError) as e:  # the stream cannot be trusted: answer once, close
                    self.rejected += 1
                    conn.send_error("unauthenticated" if isinstance(e, AuthenticationError) else "bad_frame", str(e))
                    conn.close(drain_s=0.5)
                    return
                kind = message["type"]
                try:
                    if kind == "actor_hello":
                        self.step_log.actor_dir(message["actor"])  # validates the name
                        with self._lock:
                            run = message.get("run")
                            live = self._connected.get(message["actor"])
                            if actor is None and live is not None and live[1] > 0 and live[0] != run:
                                # two actors under one name would number their batches alike, and the
                                # learner would drop one's as the other's resends
                                raise ConfigError(
                                    f"an actor named {message['actor']!r} from another run is connected: give "
                                    "each actor its own --actor name (a restarted one is let in once the old "
                                    "one's connections close)"
                                )
                            if actor is None:
                                actor = message["actor"]
                                same = live is not None and live[0] == run
                                self._connected[actor] = (run, (live[1] if same else 0) + 1)
                            # a restarted actor starts a new episode: its old one's last step is dropped. A
                            # reconnect of the same run (weights poller, sender) keeps it: its next step follows.
                            # After a learner restart the run is unknown and kept (a stale step only costs memory).
                            if self._actor_runs.get(actor, message.get("run")) != message.get("run"):
                                self.streams.drop_actor(actor)
                            self._actor_runs[actor] = message.get("run")
                            last = self._last_batch.get(actor, -1)
                        conn.send(
                            {
                                "type": "learner_welcome",
                                "policy": self.policy.config.to_dict(),
                                "version": self.version,
                                "last_batch": last,
                            }
                        )
                    elif kind == "steps":
                        if actor is None:
                            raise ConfigError("say actor_hello first")
                        self._receive_steps(actor, message)
                        conn.send({"type": "ack", "batch": message["batch"]})
                    elif kind == "weights_request":
                        version, data = self._published
                        if version > message["version"]:
                            conn.send({"type": "weights", "version": version, "safetensors": data})
                        else:
                            conn.send({"type": "ok"})
                    elif kind == "bye":
                        return
                    else:
                        raise ConfigError(f"a learner does not answer {kind!r} messages")
                except RobotlearnError as e:
                    self.rejected += 1
                    conn.send_error("bad_message", str(e))
        except TransportError:
            return
        except Exception as e:  # never a traceback to the peer; the learner keeps running
            log.exception("actor session failed")
            conn.send_error("internal", f"learner error: {type(e).__name__}")
        finally:
            conn.close()
            if actor is not None:
                with self._lock:
                    run, count = self._connected[actor]
                    self._connected[actor] = (run, count - 1)

    def _receive_steps(self, actor: str, message: dict) -> None:
        check_steps(message, self.shapes, self.action_dim)
        with self._lock:
            if message["batch"] <= self._last_batch.get(actor, -1):
                return  # sent again after a lost ack: already stored
            self.step_log.write(actor, message)  # on disk before the ack
            self.streams.add(
                (actor, message["episode"]), message["start"], message["steps"], list(self.shapes), message.get("final")
            )
            self._last_batch[actor] = message["batch"]
            if message.get("episode_info") is not None:
                self._append_log("episodes.jsonl", {"actor": actor, **message["episode_info"]})

    def _append_log(self, name: str, record: dict) -> None:
        """One JSON line with the wall time and the learner's counters (the learning curve's data)."""
        record = {"time": time.time(), "transitions": self.streams.transitions, "updates": self.updates, **record}
        with open(self.output_dir / name, "a") as f:
            f.write(json.dumps(record) + "\n")

    # -- training --------------------------------------------------------------------------------
    def update(self) -> dict:
        """One SAC update on a mixed batch."""
        with self._lock:
            batch = mixed_batch(
                self.online, self.demos, self.cfg.batch_size, self.cfg.demo_fraction, self.sample_generator
            )
        self.policy.train()
        loss, info = self.policy(batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        for group in self.optimizer.param_groups:
            torch.nn.utils.clip_grad_norm_(group["params"], self.cfg.policy.grad_clip_norm)
        self.optimizer.step()
        self.policy.update_target()
        self.updates += 1
        return info

    def publish(self) -> None:
        self.version += 1
        self._published = (self.version, weights_bytes(self.policy))

    def run(self, on_log=None) -> None:
        """Trains until `max_transitions` transitions arrived and were learned from, or `stop()`."""
        cfg = self.cfg
        last_publish = last_checkpoint = time.monotonic()
        try:
            while not self._stopping.is_set():
                received = self.streams.transitions
                due = int(cfg.utd_ratio * received) if received >= cfg.learning_starts else 0
                if self.updates < due:
                    for _ in range(min(due - self.updates, 50)):
                        self.metrics = self.update()
                else:
                    if cfg.max_transitions is not None and received >= cfg.max_transitions:
                        break
                    time.sleep(0.005)
                now = time.monotonic()
                if self.updates and now - last_publish >= cfg.publish_every_s:
                    self.publish()
                    last_publish = now
                    self._append_log("training.jsonl", {"version": self.version, **self.metrics})
                    if on_log is not None:
                        on_log(
                            {"updates": self.updates, "transitions": received, "version": self.version, **self.metrics}
                        )
                if now - last_checkpoint >= cfg.checkpoint_every_s:
                    self.save_checkpoint()
                    write_rl_report(self.output_dir)
                    last_checkpoint = now
        finally:
            self.save_checkpoint()
            write_rl_report(self.output_dir)
            if cfg.export_root:
                from robotlearn.rl.export import export_steps

                with self._lock:
                    export_steps(self.output_dir, cfg.export_root, self.fps, task=cfg.env.type)
