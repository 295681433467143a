"""Flow matching for action chunks (Lipman et al. 2023; as π0 and SmolVLA use it), as pure functions.

A velocity model v(x_t, t) learns to carry noise to actions along straight lines:

    x_t = t * noise + (1 - t) * actions        t in (0, 1]: t = 1 is pure noise, t = 0 the actions
    target velocity u = noise - actions        (d x_t / d t)
    loss = || v(x_t, t) - u ||^2

Training times follow SmolVLA (lerobot modeling_smolvla.py `sample_time`): t = 0.999 * Beta(1.5, 1)
+ 0.001, which favours noisy times. Sampling integrates dx/dt = v from t = 1 to t = 0 with `n_steps`
Euler steps (SmolVLA: 10).

    loss = flow_matching_loss(model, actions, generator).mean()
    actions = euler_sample(model, (B, K, A), generator, n_steps=10)

`velocity_fn(x_t, t)` takes x_t (B, ...) and t (B,) and returns a velocity shaped like x_t. Each
function draws its random numbers from `generator` (None: torch's global generator), on the
generator's device, then moves them to the actions' device.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

VelocityFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
BETA_ALPHA = 1.5
"""t ~ Beta(BETA_ALPHA, 1) before scaling (SmolVLA's choice)."""
T_MIN = 0.001
"""Smallest training time: t = (1 - T_MIN) * Beta + T_MIN."""


def time_from_uniform(u: torch.Tensor, alpha: float = BETA_ALPHA) -> torch.Tensor:
    """Uniform draws u in [0, 1) -> training times t = 0.999 * Beta(alpha, 1) + 0.001.

    Beta(alpha, 1) has CDF x**alpha, so u ** (1 / alpha) is an exact Beta(alpha, 1) draw (inverse
    CDF); this keeps the draw on a given torch.Generator, which torch.distributions.Beta cannot."""
    return (1 - T_MIN) * u.clamp(0, 1) ** (1 / alpha) + T_MIN


def sample_time(
    batch_size: int, generator: torch.Generator | None = None, device: torch.device | str | None = None
) -> torch.Tensor:
    """(B,) training times t = 0.999 * Beta(1.5, 1) + 0.001, float32, on `device`."""
    gen_device = generator.device if generator is not None else None
    u = torch.rand(batch_size, generator=generator, device=gen_device)
    return time_from_uniform(u).to(device)


def sample_noise(
    shape: tuple[int, ...], generator: torch.Generator | None = None, device: torch.device | str | None = None
) -> torch.Tensor:
    """Standard normal noise of `shape`, float32, on `device`."""
    gen_device = generator.device if generator is not None else None
    return torch.randn(shape, generator=generator, device=gen_device).to(device)


def interpolate(actions: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """x_t = t * noise + (1 - t) * actions, with t (B,) broadcast over the other dimensions."""
    t = t.reshape(-1, *([1] * (actions.dim() - 1)))
    return t * noise + (1 - t) * actions


def flow_matching_loss(
    velocity_fn: VelocityFn,
    actions: torch.Tensor,
    generator: torch.Generator | None = None,
    noise: torch.Tensor | None = None,
    t: torch.Tensor | None = None,
) -> torch.Tensor:
    """Elementwise squared error (v(x_t, t) - (noise - actions))**2, shaped like `actions` (B, ...).

    `noise` (like actions) and `t` (B,) are drawn from `generator` when not given (noise first,
    then t). Reduce it yourself: with a padding mask, average only the valid entries."""
    if noise is None:
        noise = sample_noise(tuple(actions.shape), generator, actions.device).to(actions.dtype)
    if t is None:
        t = sample_time(actions.shape[0], generator, actions.device).to(actions.dtype)
    x_t = interpolate(actions, noise, t)
    return (velocity_fn(x_t, t) - (noise - actions)) ** 2


def euler_sample(
    velocity_fn: VelocityFn,
    shape: tuple[int, ...],
    generator: torch.Generator | None = None,
    n_steps: int = 10,
    device: torch.device | str | None = None,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Integrates dx/dt = v(x, t) from t = 1 (x = noise) to t = 0 in `n_steps` Euler steps; returns x_0.

    `noise` (of `shape`) is drawn from `generator` when not given. Raises ValueError if n_steps < 1."""
    if n_steps < 1:
        raise ValueError(f"n_steps={n_steps}: need at least one Euler step")
    x = sample_noise(shape, generator, device) if noise is None else noise.to(device)
    dt = -1.0 / n_steps
    for i in range(n_steps):
        t = torch.full((shape[0],), 1.0 + i * dt, device=x.device, dtype=x.dtype)
        x = x + dt * velocity_fn(x, t)
    return x
