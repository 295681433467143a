"""A replay buffer of transitions that stores each frame once, images as uint8.

    buffer = ReplayBuffer(features, capacity=100_000)      # features: key -> {"shape", "dtype"}
    buffer.add(obs, action, reward, terminated, truncated, next_obs, intervention=False)
    batch = buffer.sample(256, generator)                 # obs keys (B, 2, ...): s and s'; action, ...

Frames are written in a ring, one slot per frame: a transition is a slot's observation, action,
reward and flags, and its next observation is the *following slot* (no second copy of the image).
Consecutive transitions of an episode share frames: the next observation of one is the
observation of the next. When a chain breaks (the episode ended, or the caller routes a
transition to another buffer: `close_chain()`), the final next observation takes one slot of its
own that is never sampled as a transition start. So with two 128x128 cameras a transition costs
2 x 49,152 bytes of images (plus its state and flags), not the 786 kB of float32 images twice.

`done` is termination only: a transition cut by a time limit (`truncated`) bootstraps from its
next observation like any other.
"""

from __future__ import annotations

import numpy as np
import torch

from robotlearn.errors import ConfigError


def _storage_dtype(dtype: str) -> torch.dtype:
    if dtype in ("video", "image", "uint8"):
        return torch.uint8
    return torch.float32


class ReplayBuffer:
    """Transitions in a fixed-capacity ring of frames (oldest overwritten first).

    Args:
        features: observation key -> {"shape": [...], "dtype": "video"|"image"|"uint8"|"float32"};
            cameras as (C, H, W) and stored as uint8.
        action_dim: size of the action vector.
        capacity: frames kept (a transition uses one; an episode's end one more).
    """

    def __init__(self, features: dict, action_dim: int, capacity: int):
        if capacity < 2:
            raise ConfigError(f"replay buffer capacity must be >= 2 frames, got {capacity}")
        self.capacity, self.action_dim = int(capacity), int(action_dim)
        self.features = {k: dict(v) for k, v in features.items()}
        self.obs = {
            k: torch.zeros((self.capacity, *ft["shape"]), dtype=_storage_dtype(ft["dtype"]))
            for k, ft in self.features.items()
        }
        self.action = torch.zeros((self.capacity, self.action_dim), dtype=torch.float32)
        self.reward = torch.zeros(self.capacity, dtype=torch.float32)
        self.done = torch.zeros(self.capacity, dtype=torch.bool)
        self.intervention = torch.zeros(self.capacity, dtype=torch.bool)
        self.valid = torch.zeros(self.capacity, dtype=torch.bool)  # slot starts a transition
        self._pos = 0  # next slot to write
        self._chain_open = False  # the last written slot is the observation of the next transition
        self.frames_written = 0
        self.transitions_added = 0

    def __len__(self) -> int:
        """Transitions that can be sampled."""
        return int(self.valid.sum())

    @property
    def nbytes(self) -> int:
        tensors = [*self.obs.values(), self.action, self.reward, self.done, self.intervention, self.valid]
        return sum(t.numel() * t.element_size() for t in tensors)

    @property
    def bytes_per_frame(self) -> float:
        return self.nbytes / self.capacity

    def _write_frame(self, observation: dict) -> int:
        slot = self._pos
        for key, store in self.obs.items():
            if key not in observation:
                raise ConfigError(f"replay buffer: observation lacks {key!r} (has {sorted(observation)})")
            value = torch.as_tensor(np.asarray(observation[key]))
            if value.shape != store.shape[1:]:
                raise ConfigError(
                    f"replay buffer: {key!r} has shape {tuple(value.shape)}, expected {tuple(store.shape[1:])}"
                )
            store[slot] = value.to(store.dtype)
        # Overwriting a slot ends only the (oldest) transition that started there: the transition
        # whose next frame this slot is starts one slot earlier, which was written last (ours).
        self.valid[slot] = False  # until its action is written
        self._pos = (slot + 1) % self.capacity
        self.frames_written += 1
        return slot

    def close_chain(self) -> None:
        """The next `add` starts a new chain (its observation gets its own slot)."""
        self._chain_open = False

    def add(
        self,
        observation: dict,
        action,
        reward: float,
        terminated: bool,
        truncated: bool,
        next_observation: dict,
        intervention: bool = False,
    ) -> None:
        """One transition. `observation` is written only when it does not continue the chain
        (the previous transition's next observation already sits in the last slot)."""
        if self._chain_open:
            slot = (self._pos - 1) % self.capacity
        else:
            slot = self._write_frame(observation)
        self.action[slot] = torch.as_tensor(np.asarray(action, dtype=np.float32).reshape(self.action_dim))
        self.reward[slot] = float(reward)
        self.done[slot] = bool(terminated)
        self.intervention[slot] = bool(intervention)
        self._write_frame(next_observation)
        self.valid[slot] = True
        self.transitions_added += 1
        self._chain_open = not (terminated or truncated)

    def add_episode(self, frames: dict, actions, rewards, terminated: bool, interventions=None) -> int:
        """A recorded episode in one vectorized write: `frames` key -> (M, ...) observations,
        `actions` (M, A), `rewards` (M,) (LeRobot's `next.reward`: after each frame's action).
        Transitions 0..M-2 take the following frame as s'; the last frame is a transition only
        when the episode terminated (its s' is never used), otherwise it closes the chain.
        Returns the transitions added. Episodes longer than the capacity keep their end."""
        m = len(actions)
        if m == 0:
            return 0
        self.close_chain()
        n_frames = m + 1 if terminated else m  # a terminal episode's last s' is a placeholder copy
        keep = min(n_frames, self.capacity)
        slots = (self._pos + torch.arange(keep)) % self.capacity
        frame_ids = torch.arange(n_frames - keep, n_frames)  # which episode frame each slot gets
        src = frame_ids.clamp(max=m - 1)  # the placeholder repeats the last frame
        for key, store in self.obs.items():
            if key not in frames:
                raise ConfigError(f"replay buffer: episode lacks {key!r} (has {sorted(frames)})")
            store[slots] = torch.as_tensor(np.asarray(frames[key]))[src].to(store.dtype)
        transition = frame_ids < n_frames - 1  # every frame but the last written starts a transition
        self.action[slots] = torch.as_tensor(np.asarray(actions, dtype=np.float32)).reshape(m, self.action_dim)[src]
        self.reward[slots] = torch.as_tensor(np.asarray(rewards, dtype=np.float32)).reshape(m)[src]
        self.done[slots] = (frame_ids == m - 1) & bool(terminated)
        flags = (
            torch.zeros(m, dtype=torch.bool)
            if interventions is None
            else torch.as_tensor(np.asarray(interventions, bool))
        )
        self.intervention[slots] = flags[src]
        self.valid[slots] = transition
        self._pos = int((self._pos + keep) % self.capacity)
        self.frames_written += keep
        added = int(transition.sum())
        self.transitions_added += added
        return added

    def sample(self, batch_size: int, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """A uniform batch of transitions, as SAC takes it (and a LeRobotDataset gives it for
        observation windows [0, 1/fps]): each observation key (B, 2, ...) with s at [:, 0] and
        s' at [:, 1]; action (B, A); next.reward, next.done (termination), intervention (B,).
        Raises ConfigError when the buffer is empty."""
        starts = torch.nonzero(self.valid, as_tuple=True)[0]
        if len(starts) == 0:
            raise ConfigError("replay buffer is empty: add transitions before sampling")
        idx = starts[torch.randint(len(starts), (batch_size,), generator=generator)]
        pair = torch.stack([idx, (idx + 1) % self.capacity], dim=1)  # (B, 2): the frame and the following one
        batch = {k: v[pair] for k, v in self.obs.items()}
        batch["action"] = self.action[idx]
        batch["next.reward"] = self.reward[idx]
        batch["next.done"] = self.done[idx]
        batch["intervention"] = self.intervention[idx]
        return batch


def mixed_batch(online: ReplayBuffer, demos: ReplayBuffer, batch_size: int, demo_fraction: float, generator=None):
    """RLPD-style: round(batch_size * demo_fraction) transitions from `demos` (demonstrations and
    human interventions), the rest from `online`; either side alone while the other is empty."""
    n_demo = int(round(batch_size * demo_fraction)) if len(demos) else 0
    if not len(online):
        n_demo = batch_size
    parts = [b.sample(n, generator) for b, n in ((demos, n_demo), (online, batch_size - n_demo)) if n > 0]
    return {k: torch.cat([p[k] for p in parts]) for k in parts[0]}
