"""Device and seed helpers shared by training, evaluation and inference."""

from __future__ import annotations

import random

import numpy as np

from robotlearn.errors import ConfigError


def resolve_device(name: str):
    """A torch.device for `name` ("auto": cuda when available, else cpu; "cpu", "cuda:1", "mps").

    Raises ConfigError when the device is not available on this machine."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"--device={name}: not a device name; use cpu, cuda, cuda:N, mps or auto") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device={name}: CUDA is not available on this machine; use --device=cpu")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise ConfigError(f"--device={name}: MPS is not available on this machine; use --device=cpu")
    return device


def set_seed(seed: int) -> None:
    """Seeds Python's, numpy's and torch's global random generators."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def module_device(module, default=None):
    """The device of a module's first parameter (`default` if it has none)."""
    try:
        return next(module.parameters()).device
    except (AttributeError, StopIteration, TypeError):
        return default
