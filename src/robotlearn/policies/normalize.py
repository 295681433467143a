"""Feature normalization from dataset statistics, kept as buffers inside the policy.

Each feature is normalized with one of two modes:

    mean_std: x' = (x - mean) / (std + eps)
    min_max:  x' = 2 * (x - min) / (max - min + eps) - 1        (to [-1, 1])

The statistics come from `dataset.meta.stats` when a policy is created for training. They are
registered as buffers, so `save_pretrained` writes them into `model.safetensors` next to the
weights and a reloaded policy normalizes exactly as during training without the dataset.
Image statistics have shape (C, 1, 1) and broadcast over (..., C, H, W).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

MODES = ("mean_std", "min_max", "identity")
_STATS_FOR = {"mean_std": ("mean", "std"), "min_max": ("min", "max"), "identity": ()}


class NormalizationError(ValueError):
    """Statistics are missing for a feature, or a mode is unknown."""


def _buffer_name(key: str, stat: str) -> str:
    # Buffer names cannot contain dots; feature keys do ("observation.state").
    return f"{key.replace('.', '_')}__{stat}"


class Normalizer(nn.Module):
    """Normalizes (and un-normalizes) a dict of features with per-feature modes.

    Args:
        shapes: feature key -> shape of its statistics ((D,) for vectors, (C, 1, 1) for images).
        modes: feature key -> "mean_std" | "min_max" | "identity".
        stats: feature key -> {"mean", "std", "min", "max": array-like}, e.g. `dataset.meta.stats`.
            None creates NaN placeholders, to be filled by `load_state_dict` (from_pretrained).
        eps: added to the denominator so constant features do not divide by zero.
    """

    def __init__(
        self, shapes: dict[str, tuple[int, ...]], modes: dict[str, str], stats: dict | None = None, eps: float = 1e-8
    ):
        super().__init__()
        self.modes = dict(modes)
        self.eps = eps
        for key, mode in self.modes.items():
            if mode not in MODES:
                raise NormalizationError(f"feature {key!r}: normalization mode must be one of {MODES}, got {mode!r}")
            for stat in _STATS_FOR[mode]:
                value = torch.full(tuple(shapes[key]), float("nan"))
                if stats is not None:
                    if key not in stats or stat not in stats[key]:
                        raise NormalizationError(
                            f"dataset stats have no {stat!r} for feature {key!r} (needed by mode {mode!r}); "
                            "recompute meta/stats.json or choose another normalization mode"
                        )
                    value = torch.as_tensor(np.asarray(stats[key][stat], dtype=np.float32)).reshape(value.shape)
                self.register_buffer(_buffer_name(key, stat), value)

    def _stats(self, key: str) -> tuple[torch.Tensor, ...]:
        out = tuple(getattr(self, _buffer_name(key, s)) for s in _STATS_FOR[self.modes[key]])
        if any(torch.isnan(t).any() for t in out):
            raise NormalizationError(
                f"normalization statistics for {key!r} are not set: create the policy with dataset stats "
                "(make_policy) or load it with from_pretrained"
            )
        return out

    def normalize(self, key: str, x: torch.Tensor) -> torch.Tensor:
        mode = self.modes.get(key, "identity")
        if mode == "identity":
            return x
        a, b = self._stats(key)
        if mode == "mean_std":
            return (x - a) / (b + self.eps)
        return 2 * (x - a) / (b - a + self.eps) - 1

    def unnormalize(self, key: str, x: torch.Tensor) -> torch.Tensor:
        mode = self.modes.get(key, "identity")
        if mode == "identity":
            return x
        a, b = self._stats(key)
        if mode == "mean_std":
            return x * (b + self.eps) + a
        return (x + 1) / 2 * (b - a + self.eps) + a

    def forward(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Returns a shallow copy of `batch` with every known feature normalized."""
        return {k: self.normalize(k, v) if k in self.modes else v for k, v in batch.items()}


def relative_action_stats(root, offsets: list[int], action_key: str = "action", state_key: str = "observation.state"):
    """Statistics of `action[t + k] - state[t]` over every frame t of the dataset at `root` and every
    offset k in `offsets` (steps; windows past an episode's edge repeat its edge frame, as the
    dataset's windows do). Returns {"min", "max", "mean", "std"} as (D,) float32 arrays, for a policy
    with `relative_actions`. Raises NormalizationError if the columns are missing or differ in size."""
    from pathlib import Path

    import pyarrow.parquet as pq

    files = sorted((Path(root) / "data").rglob("*.parquet"))
    tables = [pq.read_table(f, columns=[action_key, state_key, "episode_index"]) for f in files]
    if not tables:
        raise NormalizationError(f"{root}: no data files to compute relative-action statistics from")
    actions = np.concatenate([np.stack(t.column(action_key).to_numpy(zero_copy_only=False)) for t in tables])
    states = np.concatenate([np.stack(t.column(state_key).to_numpy(zero_copy_only=False)) for t in tables])
    episodes = np.concatenate([t.column("episode_index").to_numpy() for t in tables])
    if actions.shape[1] != states.shape[1]:
        raise NormalizationError(
            f"relative_actions needs {action_key!r} and {state_key!r} of the same size, got "
            f"{actions.shape[1]} and {states.shape[1]}"
        )
    deltas = []
    for episode in np.unique(episodes):
        a, s = actions[episodes == episode], states[episodes == episode]
        for k in offsets:
            deltas.append(a[np.clip(np.arange(len(a)) + k, 0, len(a) - 1)] - s)
    d = np.concatenate(deltas).astype(np.float64)
    return {
        name: value.astype(np.float32)
        for name, value in (("min", d.min(0)), ("max", d.max(0)), ("mean", d.mean(0)), ("std", d.std(0)))
    }
