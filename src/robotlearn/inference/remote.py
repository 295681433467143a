"""A served policy behind the in-process policy interface (`select_action`, `reset`, `config.features`),
so the synchronous tools run through a server unchanged:

    from robotlearn.evaluation.rollout import evaluate_policy
    results = evaluate_policy(RemotePolicy("127.0.0.1:8765"), n_episodes=50)

Synchronous by design (the policy in the loop, as `robotlearn eval` measures it): when its queue is
empty it sends the observation (with the policy's observation history) and executes the first
`n_action_steps` actions of the chunk, exactly as the in-process policy's `select_action` does.
"""

from __future__ import annotations

import collections
from types import SimpleNamespace

import numpy as np

from robotlearn.transport import RemoteError, connect


def batch_to_observation(batch: dict, features: dict) -> dict:
    """A batch of one from `observation_to_batch` -> the unbatched numpy observation the client sends:
    images (1, C, H, W) float in [0, 1] back to (H, W, C) uint8 (exact for images that were uint8),
    vectors (1, D) to (D,) float32."""
    out = {}
    for key, ft in features.items():
        if key == "action" or key not in batch:
            continue
        value = batch[key][0].detach().cpu()
        if ft["type"] == "VISUAL":
            out[key] = (value.permute(1, 2, 0).numpy() * 255.0).round().clip(0, 255).astype(np.uint8)
        else:
            out[key] = value.numpy().astype(np.float32)
    return out


class RemotePolicy:
    """Connects to `address` ('host:port') at construction. Raises TransportError if no server answers."""

    def __init__(self, address: str, token: bytes = b"", n_action_steps: int | None = None):
        import torch

        self.conn = connect(address, token)
        welcome = self.conn.request({"type": "hello", "client": "RemotePolicy"})
        self.info = welcome["policy"]
        self.n_action_steps = int(n_action_steps or self.info["n_action_steps"])
        self.config = SimpleNamespace(
            type=self.info["type"], features=self.info["features"], n_action_steps=self.n_action_steps
        )
        self.device = torch.device("cpu")
        self._episode = -1
        self.reset()

    def eval(self):
        return self

    def reset(self) -> None:
        self._episode += 1
        self._tick = 0
        self._queue: collections.deque = collections.deque()
        self._history: collections.deque = collections.deque(maxlen=int(self.info["n_obs_steps"]))
        self.conn.request({"type": "reset", "episode": self._episode})

    def select_action(self, batch: dict):
        """Batch of one -> action (1, A); plans through the server when the queue is empty. The noise
        seed of each chunk is drawn from torch's global RNG (seeded per episode by evaluate_policy)."""
        import torch

        observation = batch_to_observation(batch, self.info["features"])
        self._history.append(observation)
        while len(self._history) < self._history.maxlen:
            self._history.appendleft(observation)
        if not self._queue:
            n = self._history.maxlen
            sent = {k: np.stack([h[k] for h in self._history]) for k in observation} if n > 1 else observation
            seed = int(torch.randint(0, 2**31 - 1, (1,)).item())
            reply = self.conn.request(
                {"type": "observation", "tick": self._tick, "episode": self._episode, "observation": sent, "seed": seed}
            )
            if reply["type"] != "actions":
                raise RemoteError("bad_reply", f"expected actions, got {reply['type']!r}")
            self._queue.extend(reply["actions"][: self.n_action_steps])
        self._tick += 1
        return torch.from_numpy(np.asarray(self._queue.popleft(), dtype=np.float32))[None]

    def close(self) -> None:
        self.conn.close()
