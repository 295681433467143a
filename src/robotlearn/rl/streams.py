"""Steps from actors -> transitions in the replay buffers, and their durable copy on disk.

An actor sends the steps of an episode in order, each observation once: step t carries
(observation_t, action_t, reward_t, terminated_t, truncated_t, intervention_t), and the batch
that ends the episode carries the `final` observation after its last step. A transition is
complete when the next step (or `final`) arrives, so `StreamAssembler` holds the last step of
every open episode until then.

Routing (RLPD / HIL-SERL): a transition whose action a human gave (`intervention`) goes to the
demo buffer, every other one to the online buffer. Consecutive transitions of an episode share
their frame in a buffer only when both went to it (`ReplayBuffer.close_chain` otherwise).

`StepLog` writes each received batch to `dir/<actor>/<batch>.safetensors` (atomically, before
it is acknowledged) so a restarted learner rebuilds its buffers from them: nothing acknowledged
is lost, and a batch sent again after a lost ack is recognised by its number and not added twice.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from robotlearn.errors import ConfigError
from robotlearn.rl.buffer import ReplayBuffer

STEP_FIELDS = ("action", "reward", "terminated", "truncated", "intervention")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def check_steps(message: dict, shapes: dict[str, tuple], action_dim: int) -> int:
    """Validates a `steps` message against the task's observation `shapes` (key -> per-step shape);
    returns its number of steps. Raises ConfigError naming the field (the learner answers it as an
    error and carries on)."""
    steps = message["steps"]
    want = {**{k: tuple(v) for k, v in shapes.items()}, "action": (action_dim,)}
    want.update({k: () for k in STEP_FIELDS if k != "action"})
    missing = [k for k in want if k not in steps]
    if missing:
        raise ConfigError(f"steps message lacks {missing}")
    n = len(steps["action"]) if isinstance(steps["action"], np.ndarray) else -1
    for key, shape in want.items():
        value = steps[key]
        if not isinstance(value, np.ndarray) or value.shape != (n, *shape):
            got = value.shape if isinstance(value, np.ndarray) else type(value).__name__
            raise ConfigError(f"steps[{key!r}] must be an array of shape {(n, *shape)}, got {got}")
    final = message.get("final")
    if final is not None:
        for key, shape in shapes.items():
            value = final.get(key)
            if not isinstance(value, np.ndarray) or value.shape != tuple(shape):
                raise ConfigError(f"final[{key!r}] must be an array of shape {tuple(shape)}")
    if n == 0 and final is None:
        raise ConfigError("steps message carries no step and no final observation")
    return n


class StreamAssembler:
    """Turns ordered step batches of (actor, episode) streams into buffer transitions."""

    def __init__(self, online: ReplayBuffer, demos: ReplayBuffer):
        self.online, self.demos = online, demos
        self._pending: dict[tuple, tuple[int, dict]] = {}  # stream -> (step index, step)
        self._last_added: dict[int, tuple] = {}  # id(buffer) -> (stream, step index) of its last transition
        self.transitions = 0
        self.interventions = 0

    def _add(self, stream: tuple, index: int, step: dict, next_obs: dict) -> None:
        buffer = self.demos if step["intervention"] else self.online
        if self._last_added.get(id(buffer)) != (stream, index - 1):
            buffer.close_chain()
        buffer.add(
            step["obs"],
            step["action"],
            step["reward"],
            step["terminated"],
            step["truncated"],
            next_obs,
            intervention=step["intervention"],
        )
        self._last_added[id(buffer)] = (stream, index)
        self.transitions += 1
        self.interventions += int(step["intervention"])

    def add(self, stream: tuple, start: int, steps: dict, observation_keys: list[str], final: dict | None) -> int:
        """Adds the steps start, start+1, ... of `stream`; returns the transitions completed."""
        before = self.transitions
        n = len(steps["action"])
        for i in range(n):
            step = {
                "obs": {k: steps[k][i] for k in observation_keys},
                "action": steps["action"][i],
                "reward": float(steps["reward"][i]),
                "terminated": bool(steps["terminated"][i]),
                "truncated": bool(steps["truncated"][i]),
                "intervention": bool(steps["intervention"][i]),
            }
            pending = self._pending.get(stream)
            if pending is not None and pending[0] == start + i - 1:
                self._add(stream, pending[0], pending[1], step["obs"])
            self._pending[stream] = (start + i, step)
        if final is not None:
            pending = self._pending.pop(stream, None)
            if pending is not None:
                self._add(stream, pending[0], pending[1], {k: final[k] for k in observation_keys})
        return self.transitions - before

    def drop_actor(self, actor: str) -> None:
        """An actor restarted: its open episodes end here (their last step has no next observation)."""
        for stream in [s for s in self._pending if s[0] == actor]:
            del self._pending[stream]


class StepLog:
    """Received step batches on disk, one safetensors file each (arrays only; metadata as strings)."""

    def __init__(self, directory: str | Path):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)

    def actor_dir(self, actor: str) -> Path:
        """The folder of `actor`'s batches. Raises ConfigError for a name that is not a safe folder name."""
        if not _SAFE_NAME.match(actor):
            raise ConfigError(f"actor name {actor!r}: use 1-64 letters, digits, '_', '.', '-'")
        return self.dir / actor

    def write(self, actor: str, message: dict) -> None:
        from safetensors.numpy import save_file

        directory = self.actor_dir(actor)
        directory.mkdir(exist_ok=True)
        arrays = {f"steps.{k}": np.ascontiguousarray(v) for k, v in message["steps"].items()}
        if message.get("final") is not None:
            arrays.update({f"final.{k}": np.ascontiguousarray(v) for k, v in message["final"].items()})
        meta = {"episode": str(message["episode"]), "start": str(message["start"]), "batch": str(message["batch"])}
        path = directory / f"{message['batch']:010d}.safetensors"
        tmp = path.with_suffix(".tmp")
        save_file(arrays, str(tmp), metadata=meta)
        os.replace(tmp, path)  # whole or absent, never half-written

    def last_batch(self, actor: str) -> int:
        files = sorted(self.actor_dir(actor).glob("*.safetensors")) if (self.dir / actor).is_dir() else []
        return int(files[-1].stem) if files else -1

    def replay(self):
        """Yields (actor, message) for every stored batch, each actor's in order."""
        from safetensors import safe_open

        for actor_dir in sorted(p for p in self.dir.iterdir() if p.is_dir()):
            for path in sorted(actor_dir.glob("*.safetensors")):
                with safe_open(str(path), framework="np") as f:
                    meta = f.metadata()
                    arrays = {k: f.get_tensor(k) for k in f.keys()}
                message = {
                    "batch": int(meta["batch"]),
                    "episode": int(meta["episode"]),
                    "start": int(meta["start"]),
                    "steps": {k[6:]: v for k, v in arrays.items() if k.startswith("steps.")},
                    "final": {k[6:]: v for k, v in arrays.items() if k.startswith("final.")} or None,
                }
                yield actor_dir.name, message
