"""The RL actor: runs the policy in the environment and streams its steps to the learner.

    robotlearn rl-actor --env.type=gym --env.id=Pendulum-v1 --learner=127.0.0.1:8766

Each step (observation, action, reward, flags, whether a human intervened) is queued for the
sender thread, which sends batches of up to `steps_per_message` steps with at most one batch
unacknowledged: while one is in flight new steps wait and go in the next batch. If the learner
vanishes the sender keeps the unacknowledged batch, reconnects, and sends it again (the learner
skips batches it already stored). A second thread polls for new weights every `weights_poll_s`
and loads them between two steps; until the learner's first weights arrive the actor explores
with uniformly random actions.

Interventions: `intervene(env, observation, policy_action)` (the keyboard, a teleoperator such
as a leader arm, or the scripted PushT expert standing in for a human: `--intervention.type=`
keyboard, teleop or scripted_pusht, see interventions.py) may return an action that replaces the
policy's; the step is then marked `intervention` and the executed action is what is stored.

Safety (safety.py): every executed action, the policy's or the human's, is clipped to the action
bounds (`--safety.*`; the steps clipped are counted per episode). The emergency-stop key (escape
by default) is checked before every action is sent: once pressed, no further action goes out, the
robot is held (`env.hold()` where the task has one), the episode ends there marked `estop`, the
steps already taken reach the learner and the dataset, and `run` returns with `estop: True`.

`--dataset.root` writes every finished episode to a LeRobotDataset at once (export.py's
`EpisodeWriter`, the recorder's crash-safe writer): a killed actor loses at most the episode in
progress, and a restarted one appends.

The last step taken is queued for the learner when the next one is taken (or its episode ends),
so an emergency stop can still mark it as the episode's end and give it its final observation.
"""

from __future__ import annotations

import collections
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from robotlearn.envs import EnvConfig, GymEnvConfig, make_env
from robotlearn.evaluation.rollout import env_observation
from robotlearn.rl.interventions import InterventionConfig, make_intervention
from robotlearn.rl.safety import ActionBounds, EmergencyStop, SafetyConfig
from robotlearn.transport import ConnectionClosedError, TransportError, connect, resolve_token

log = logging.getLogger(__name__)


def policy_layout(obs: dict, env, features: dict) -> dict:
    """The env's observation as the policy and the replay buffer take it: the keys it uses (the
    simulator's state added when needed), cameras (H, W, C) -> (C, H, W) uint8."""
    obs = env_observation(obs, env, features)
    out = {}
    for key, ft in features.items():
        if key == "action":
            continue
        value = np.asarray(obs[key])
        if ft["type"] == "VISUAL" and value.ndim == 3 and value.shape[-1] == ft["shape"][0]:
            value = np.ascontiguousarray(value.transpose(2, 0, 1))
        out[key] = value
    return out


def unused_cameras(obs: dict, keys: list[str]) -> dict:
    """The env's cameras that the policy does not take, (H, W, C) -> (C, H, W) uint8: `--dataset.root`
    records them beside the policy's keys (a state-based run still leaves the pictures a reward
    classifier learns from). They never go to the learner."""
    return {
        k: np.ascontiguousarray(np.asarray(v).transpose(2, 0, 1))
        for k, v in obs.items()
        if k.startswith("observation.images.") and k not in keys and np.asarray(v).ndim == 3
    }


@dataclass
class ActorDatasetConfig:
    root: str | None = None
    """Write each finished episode here as a LeRobotDataset at once (crash-safe; an existing one is appended to)."""
    repo_id: str = "local/rl_run"
    """Dataset name stored in its metadata."""
    task: str = ""
    """Task description stored with every frame (empty: the task's name, e.g. Pendulum-v1)."""


@dataclass
class ActorConfig:
    env: EnvConfig = field(default_factory=GymEnvConfig)
    """The task, as the learner was given it."""
    learner: str = "127.0.0.1:8766"
    """The learner's host:port."""
    token_file: str | None = None
    """File holding the shared token (else $ROBOTLEARN_TOKEN)."""
    actor: str = "actor0"
    """This actor's name (a restarted actor keeps its name; two actors need two names)."""
    steps: int | None = None
    """Environment steps to run (None: until stopped)."""
    max_episode_steps: int | None = None
    """Truncate episodes after this many steps (None: the task's own limit)."""
    steps_per_message: int = 8
    """Steps per batch sent (a batch in flight makes the next one larger)."""
    weights_poll_s: float = 0.25
    """How often to ask for new weights, seconds."""
    seed: int = 0
    """Seed of the environment's resets and of the exploration noise."""
    reconnect_s: float = 0.5
    """Wait between reconnection attempts, seconds."""
    fps: float | None = None
    """Take at most this many steps per second (a real robot's control rate; a simulator paced so
    that the learner keeps up with it). None: as fast as the task steps."""
    num_threads: int = 1
    """torch threads of `robotlearn rl-actor` (one: the learner beside it needs the other cores)."""
    reward_classifier: str | None = None
    """Folder of a trained reward classifier (robotlearn train-reward-classifier): its verdict on each new
    observation's cameras replaces the task's reward (1 on success, else 0) and ends the episode."""
    classifier_ends_episode: bool = True
    """With --reward_classifier: end the episode where the classifier sees success (false: it runs on to
    --max_episode_steps, rewarded 1 at every step the success lasts, a denser signal)."""
    give_up_s: float = 60.0
    """Stop (error) after this long without a learner, seconds."""
    intervention: InterventionConfig = field(default_factory=InterventionConfig)
    """Who takes over when the policy goes wrong: keyboard, teleop (a leader arm), scripted_pusht."""
    safety: SafetyConfig = field(default_factory=SafetyConfig)
    """Action bounds and the emergency-stop key (for real robots)."""
    dataset: ActorDatasetConfig = field(default_factory=ActorDatasetConfig)
    """Where every finished episode is written as a LeRobotDataset (crash-safe)."""


class Actor:
    def __init__(self, cfg: ActorConfig, token: bytes | None = None, intervene: Callable | None = None):
        self.cfg = cfg
        self.token = resolve_token(cfg.token_file) if token is None else token
        self.intervene = intervene if intervene is not None else make_intervention(cfg.intervention)
        self.policy = None
        self.version = 0
        self._weights_lock = threading.Lock()
        self._new_weights: tuple[int, bytes] | None = None
        self._outbox: collections.deque = collections.deque()  # steps waiting to be sent
        self._outbox_lock = threading.Lock()
        self._stopping = threading.Event()
        self._sent_all = threading.Event()
        self.last_acked = -1
        self.next_batch = 0
        self.reconnects = 0
        self.interventions = 0
        self.estop = EmergencyStop(cfg.safety.estop_key)
        # one id per actor run: the learner ends this actor's open episodes only when a new run says hello,
        # not when the weights poller or the sender of this run reconnects
        self.run_id = secrets.token_hex(8)

    # -- connection --------------------------------------------------------------------------------
    def _connect(self):
        conn = connect(self.cfg.learner, self.token, timeout_s=5.0)
        welcome = conn.request({"type": "actor_hello", "actor": self.cfg.actor, "run": self.run_id})
        if welcome["type"] != "learner_welcome":
            conn.close()
            raise TransportError(f"the learner answered actor_hello with {welcome['type']!r}")
        return conn, welcome

    def _connect_retrying(self):
        deadline = time.monotonic() + self.cfg.give_up_s
        while True:
            try:
                return self._connect()
            except (TransportError, OSError) as e:
                if time.monotonic() > deadline or self._stopping.is_set():
                    raise ConnectionClosedError(
                        f"no learner at {self.cfg.learner} for {self.cfg.give_up_s:g} s ({e}); is `robotlearn rl-learner` running?"
                    ) from None
                time.sleep(self.cfg.reconnect_s)

    def _build_policy(self, policy_config: dict) -> None:
        from robotlearn.policies.factory import POLICIES
        from robotlearn.policies.policy import config_from_dict

        policy_class = POLICIES.get(policy_config.get("type", ""), "learner policy type")
        self.policy = policy_class(config_from_dict(policy_class.config_class, policy_config, source="learner")).eval()
        self.policy.generator = torch.Generator().manual_seed(self.cfg.seed)

    # -- threads ---------------------------------------------------------------------------------
    def _sender(self) -> None:
        """Sends queued steps in batches, one unacknowledged at a time; resends after reconnecting."""
        conn, welcome = None, None
        in_flight = None
        while True:
            if conn is None:
                conn, welcome = self._connect_retrying()
                # the learner may already hold our in-flight batch (its ack was lost)
                if in_flight is not None and welcome["last_batch"] >= in_flight["batch"]:
                    self.last_acked, in_flight = in_flight["batch"], None
            if in_flight is None:
                in_flight = self._next_message()
                if in_flight is None:
                    if self._stopping.is_set():
                        self._sent_all.set()
                        conn.close()
                        return
                    time.sleep(0.002)
                    continue
            try:
                reply = conn.request(in_flight)
                if reply["type"] == "ack" and reply["batch"] == in_flight["batch"]:
                    self.last_acked, in_flight = in_flight["batch"], None
            except (TransportError, OSError) as e:
                log.info("learner lost (%s); reconnecting", e)
                conn.close()
                conn = None
                self.reconnects += 1

    def _next_message(self) -> dict | None:
        """Up to `steps_per_message` queued steps of one episode as a `steps` message."""
        with self._outbox_lock:
            if not self._outbox:
                return None
            episode = self._outbox[0]["episode"]
            taken = []
            while self._outbox and self._outbox[0]["episode"] == episode and len(taken) < self.cfg.steps_per_message:
                taken.append(self._outbox.popleft())
                if taken[-1].get("final") is not None:
                    break
        steps = {k: np.stack([s["step"][k] for s in taken]) for k in taken[0]["step"]}
        message = {
            "type": "steps",
            "batch": self.next_batch,
            "episode": episode,
            "start": taken[0]["index"],
            "steps": steps,
        }
        if taken[-1].get("final") is not None:
            message["final"] = taken[-1]["final"]
            message["episode_info"] = taken[-1]["episode_info"]
        self.next_batch += 1
        return message

    def _weights_poller(self) -> None:
        conn = None
        while not self._stopping.is_set():
            try:
                if conn is None:
                    conn, _ = self._connect()
                reply = conn.request({"type": "weights_request", "version": self.version})
                if reply["type"] == "weights":
                    with self._weights_lock:
                        self._new_weights = (reply["version"], reply["safetensors"].tobytes())
            except (TransportError, OSError):
                if conn is not None:
                    conn.close()
                conn = None
            self._stopping.wait(self.cfg.weights_poll_s)

    def _load_new_weights(self) -> None:
        with self._weights_lock:
            new, self._new_weights = self._new_weights, None
        if new is not None:
            from safetensors.torch import load

            self.policy.load_state_dict(load(new[1]))
            self.version = new[0]

    # -- the loop --------------------------------------------------------------------------------
    def _queue(self, item: dict) -> None:
        with self._outbox_lock:
            self._outbox.append(item)

    def run(self, on_episode: Callable[[dict], None] | None = None) -> dict:
        """Runs `cfg.steps` environment steps (or until the emergency stop); returns counters. Raises
        ConnectionClosedError when no learner answers for `give_up_s`."""
        cfg = self.cfg
        conn, welcome = self._connect_retrying()
        conn.close()
        self._build_policy(welcome["policy"])
        self.next_batch = welcome["last_batch"] + 1  # a restarted actor continues the numbering
        sender = threading.Thread(target=self._sender, daemon=True, name="rl-actor-send")
        sender.start()
        poller = threading.Thread(target=self._weights_poller, daemon=True, name="rl-actor-weights")
        poller.start()
        env = make_env(cfg.env, max_steps=cfg.max_episode_steps)
        try:
            if cfg.reward_classifier is not None:
                from robotlearn.rl.classifier_reward import ClassifierRewardEnv

                env = ClassifierRewardEnv(env, cfg.reward_classifier, terminate=cfg.classifier_ends_episode)
            env.action_space.seed(cfg.seed)
            bounds = ActionBounds.from_config(cfg.safety, env.action_space)
            if self.intervene is not None and hasattr(self.intervene, "open"):
                self.intervene.open(env, bounds.low, bounds.high)  # connects a teleoperator
        except BaseException:
            env.close()
            self._stopping.set()
            raise
        features = self.policy.config.features
        keys = [k for k in features if k != "action"]
        episode = int(time.time() * 1000) % 2**31  # unique per actor run: a restart never continues an old episode
        writer = None
        recording = cfg.dataset.root is not None
        raw, _ = env.reset(seed=cfg.seed)
        obs, extra = policy_layout(raw, env, features), unused_cameras(raw, keys) if recording else {}
        index, total, returns, estopped = 0, 0, [], False
        episode_return, episode_interventions, clips_before = 0.0, 0, 0
        pending = None  # the last step taken, with its next observation: queued when the next is taken

        def end_episode(item: dict, next_obs: dict, success: bool, estop: bool, finished: bool = True) -> None:
            item["final"] = {k: np.asarray(next_obs[k]) for k in keys}
            item["episode_info"] = {
                "return": episode_return,
                "steps": index,
                "success": success,
                "interventions": episode_interventions,
                "clipped": bounds.clipped - clips_before,
                "estop": estop,
                "version": self.version,
            }
            self._queue(item)
            if not finished:  # cut short by the actor stopping: to the learner only, not a dataset episode
                return
            if writer is not None:
                writer.add({**item["extra"], **item["step"]}, estop=estop, success=item["success"])
                writer.save_episode()
            returns.append(episode_return)
            if on_episode is not None:
                on_episode(item["episode_info"])

        next_tick = time.monotonic()
        try:
            while cfg.steps is None or total < cfg.steps:
                if self.estop.pressed.is_set():
                    break
                if cfg.fps:
                    delay = next_tick - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    # a late step does not make later ones rush
                    next_tick = max(next_tick, time.monotonic()) + 1.0 / cfg.fps
                self._load_new_weights()
                batch = {k: torch.as_tensor(np.asarray(obs[k]))[None] for k in keys}
                if self.version == 0:
                    action = np.asarray(env.action_space.sample(), dtype=np.float32)
                else:
                    action = self.policy.sample_action(batch)[0].numpy()
                intervened = False
                if self.intervene is not None:
                    human = self.intervene(env, obs, action)
                    if human is not None:
                        action, intervened = np.asarray(human, dtype=np.float32), True
                        self.interventions += 1
                action, _ = bounds.clip(action)
                if self.estop.pressed.is_set():  # read while the policy or the human chose: send nothing
                    break
                raw, reward, terminated, truncated, info = env.step(action)
                next_obs = policy_layout(raw, env, features)
                next_extra = unused_cameras(raw, keys) if recording else {}
                step = {k: np.asarray(obs[k]) for k in keys}
                step.update(
                    action=action.reshape(-1),
                    reward=np.float32(reward),
                    terminated=np.bool_(terminated),
                    truncated=np.bool_(truncated),
                    intervention=np.bool_(intervened),
                )
                if writer is None and recording:
                    writer = self._open_writer(env, {**extra, **step})
                if pending is not None:
                    self._queue(pending[0])
                    if writer is not None:
                        writer.add({**pending[0]["extra"], **pending[0]["step"]}, success=pending[0]["success"])
                    pending = None
                episode_return += float(reward)
                episode_interventions += int(intervened)
                item = {
                    "episode": episode,
                    "index": index,
                    "step": step,
                    "extra": extra,
                    "success": bool(info.get("is_success", False)),
                }
                index += 1
                total += 1
                obs, extra = next_obs, next_extra
                if terminated or truncated:
                    end_episode(item, next_obs, bool(info.get("is_success", False)), estop=False)
                    episode, index, episode_return, episode_interventions = episode + 1, 0, 0.0, 0
                    clips_before = bounds.clipped
                    raw, _ = env.reset()
                    obs, extra = policy_layout(raw, env, features), unused_cameras(raw, keys) if recording else {}
                else:
                    pending = (item, next_obs)
            if self.estop.pressed.is_set():
                estopped = True
                if hasattr(env, "hold"):
                    env.hold()
                log.warning("emergency stop: no more actions sent; the robot holds its position")
                if pending is not None:  # the episode ends at the last step taken, cut short
                    item, next_obs = pending
                    item["step"]["truncated"] = np.bool_(True)
                    end_episode(item, next_obs, False, estop=True)
                    pending = None
        finally:
            if pending is not None:
                # stopped mid-episode (steps ran out, Ctrl-C): the last step is a truncated transition, so
                # that every step taken reaches the learner as one (a learner counting --max_transitions
                # to the actor's --steps finishes)
                item, next_obs = pending
                item["step"]["truncated"] = np.bool_(True)
                end_episode(item, next_obs, False, estop=False, finished=False)
            if self.intervene is not None and hasattr(self.intervene, "close"):
                self.intervene.close()
            self.estop.close()
            env.close()
            if writer is not None:
                writer.close()  # an unfinished episode is dropped; every finished one is already saved
            self._stopping.set()
            self._sent_all.wait(timeout=30)
            # no thread left mid-request, or still releasing the policy's tensors (which aborts the
            # interpreter when it happens during exit), when the process exits
            poller.join(timeout=10)
            if self._sent_all.is_set():
                sender.join(timeout=10)
        if not self._sent_all.is_set():
            raise ConnectionClosedError("the actor stopped with steps the learner never acknowledged (learner gone?)")
        return {
            "steps": total,
            "episodes": len(returns),
            "returns": returns,
            "version": self.version,
            "reconnects": self.reconnects,
            "interventions": self.interventions,
            "clipped": bounds.clipped,
            "estop": estopped,
            "dataset_episodes": None if writer is None else writer.episodes,
        }

    def _open_writer(self, env, step: dict):
        from robotlearn.rl.export import EpisodeWriter

        fps = int(getattr(env, "fps", 0) or env.dataset_meta().fps)
        d = self.cfg.dataset
        task = d.task or getattr(self.cfg.env, "id", None) or self.cfg.env.type
        return EpisodeWriter.open(d.root, fps, step, repo_id=d.repo_id, task=task, success=True)
