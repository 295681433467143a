"""Exponential moving average of a model's weights, as Diffusion Policy uses for inference.

decay(k) = min(max_decay, 1 - (1 + k) ** -power) for the k-th update (k = 0 gives decay 0, a copy):
the average starts short and lengthens as training proceeds (power 0.75 reaches 0.999 after
~10k updates).
"""

from __future__ import annotations

import torch
from torch import nn


class EMA:
    """Shadow copy of `model.state_dict()`; `update(model)` after each optimizer step."""

    def __init__(self, model: nn.Module, power: float = 0.75, max_decay: float = 0.9999):
        self.power, self.max_decay = power, max_decay
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.num_updates = 0

    def decay(self) -> float:
        return min(self.max_decay, 1.0 - (1.0 + self.num_updates) ** -self.power)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        decay = self.decay()
        for key, value in model.state_dict().items():
            if value.dtype.is_floating_point:
                self.shadow[key].lerp_(value.detach(), 1.0 - decay)
            else:
                self.shadow[key].copy_(value)
        self.num_updates += 1

    def copy_to(self, model: nn.Module) -> None:
        model.load_state_dict(self.shadow)
