"""AdamW and the learning-rate schedules (constant or cosine, both with linear warmup)."""

from __future__ import annotations

import math

import torch

SCHEDULES = ("constant", "cosine")


def make_optimizer(model: torch.nn.Module, lr: float, weight_decay: float, betas=(0.95, 0.999)) -> torch.optim.AdamW:
    return torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=lr, betas=betas, weight_decay=weight_decay
    )


def lr_factor(step: int, schedule: str, warmup_steps: int, total_steps: int) -> float:
    """Multiplier of the base LR at `step`: linear warmup from 0, then 1 (constant) or a cosine to 0."""
    if warmup_steps > 0 and step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    if schedule == "cosine":
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    raise ValueError(f"--policy.scheduler must be one of {SCHEDULES}, got {schedule!r}")


def make_scheduler(optimizer, schedule: str, warmup_steps: int, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    lr_factor(0, schedule, warmup_steps, total_steps)  # validates the name now, not at the first step
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, schedule, warmup_steps, total_steps))
