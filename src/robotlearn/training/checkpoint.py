"""Training checkpoints without pickle: tensors in safetensors, everything else in JSON.

Layout of `output_dir/checkpoints/<step:06d>/` (and `checkpoints/last`, a symlink to the newest):

    pretrained_model/config.json          policy config (what `robotlearn eval --policy.path` loads)
    pretrained_model/model.safetensors    inference weights (the EMA weights when EMA is on) + normalization stats
    train_config.json                     the full `robotlearn train` config
    training_state/
        training_step.json                step, samples_seen (the data-order position), seed
        model.safetensors                 raw training weights (only with EMA; else they are pretrained_model's)
        ema.safetensors + ema.json        EMA shadow weights and update count
        optimizer_state.safetensors       optimizer tensors, flattened to "state.<param id>.<name>"
        optimizer_state.json              optimizer param_groups and non-tensor state
        scheduler_state.json              LR scheduler state
        grad_scaler.json                  fp16 loss scaler state (if used)
        rng_state.safetensors + rng_state.json   torch (CPU, CUDA), numpy and python RNG states

A checkpoint is written to `<step>.tmp/` and renamed into place, so an interrupted save never
leaves a half-written checkpoint behind `last`.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from robotlearn.errors import TrainingError

PRETRAINED_DIR = "pretrained_model"
STATE_DIR = "training_state"


class CheckpointError(TrainingError, RuntimeError):
    """A checkpoint is missing or incomplete."""


def _write_json(data, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2))


# --- optimizer -------------------------------------------------------------------------------


def save_optimizer(optimizer: torch.optim.Optimizer, directory: Path) -> None:
    state = optimizer.state_dict()
    tensors, scalars = {}, {}
    for pid, entries in state["state"].items():
        for name, value in entries.items():
            if isinstance(value, torch.Tensor):
                tensors[f"state.{pid}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{name}"] = value
    save_file(tensors, str(directory / "optimizer_state.safetensors"))
    _write_json({"param_groups": state["param_groups"], "scalars": scalars}, directory / "optimizer_state.json")


def load_optimizer(optimizer: torch.optim.Optimizer, directory: Path) -> None:
    meta = json.loads((directory / "optimizer_state.json").read_text())
    state: dict[int, dict] = {}
    for key, value in load_file(str(directory / "optimizer_state.safetensors")).items():
        _, pid, name = key.split(".", 2)
        state.setdefault(int(pid), {})[name] = value
    for key, value in meta["scalars"].items():
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = value
    groups = meta["param_groups"]
    for group in groups:
        if "betas" in group:
            group["betas"] = tuple(group["betas"])
    optimizer.load_state_dict({"state": state, "param_groups": groups})


# --- RNG -------------------------------------------------------------------------------------


def save_rng(directory: Path) -> None:
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"torch_cuda_{i}"] = s
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    tensors["numpy_keys"] = torch.from_numpy(keys.astype(np.int64))
    save_file(tensors, str(directory / "rng_state.safetensors"))
    py_version, py_state, py_gauss = random.getstate()
    _write_json(
        {
            "numpy": {"kind": kind, "pos": int(pos), "has_gauss": int(has_gauss), "cached_gaussian": float(gauss)},
            "python": {"version": py_version, "state": list(py_state), "gauss_next": py_gauss},
        },
        directory / "rng_state.json",
    )


def load_rng(directory: Path) -> None:
    tensors = load_file(str(directory / "rng_state.safetensors"))
    meta = json.loads((directory / "rng_state.json").read_text())
    torch.set_rng_state(tensors["torch_cpu"])
    cuda = [tensors[k] for k in sorted(k for k in tensors if k.startswith("torch_cuda_"))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)
    n = meta["numpy"]
    np.random.set_state(
        (n["kind"], tensors["numpy_keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["cached_gaussian"])
    )
    p = meta["python"]
    random.setstate((p["version"], tuple(p["state"]), p["gauss_next"]))


# --- whole checkpoint ------------------------------------------------------------------------


def save_checkpoint(
    output_dir: Path,
    step: int,
    samples_seen: int,
    seed: int,
    policy,
    train_config: dict,
    optimizer,
    scheduler,
    ema=None,
    grad_scaler=None,
) -> Path:
    """Writes checkpoint `step` and points `checkpoints/last` at it. Returns its directory."""
    root = Path(output_dir) / "checkpoints"
    final = root / f"{step:06d}"
    tmp = root / f"{step:06d}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    state_dir = tmp / STATE_DIR
    state_dir.mkdir(parents=True)
    if ema is not None:
        raw = {k: v.detach().cpu().clone() for k, v in policy.state_dict().items()}  # clone: copy_to writes in place
        save_file(raw, str(state_dir / "model.safetensors"))
        save_file({k: v.detach().cpu().contiguous() for k, v in ema.shadow.items()}, str(state_dir / "ema.safetensors"))
        _write_json({"num_updates": ema.num_updates}, state_dir / "ema.json")
        ema.copy_to(policy)  # save the EMA weights as the inference model ...
        policy.save_pretrained(tmp / PRETRAINED_DIR)
        policy.load_state_dict(raw)  # ... and continue training the raw ones
    else:
        policy.save_pretrained(tmp / PRETRAINED_DIR)
    _write_json(train_config, tmp / "train_config.json")
    _write_json({"step": step, "samples_seen": samples_seen, "seed": seed}, state_dir / "training_step.json")
    save_optimizer(optimizer, state_dir)
    _write_json(scheduler.state_dict(), state_dir / "scheduler_state.json")
    if grad_scaler is not None:
        _write_json(grad_scaler.state_dict(), state_dir / "grad_scaler.json")
    save_rng(state_dir)
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    link = root / "last"
    tmp_link = root / "last.tmp"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    tmp_link.symlink_to(final.name)
    os.replace(tmp_link, link)
    return final


def last_checkpoint(output_dir: Path) -> Path:
    """The directory `checkpoints/last` points to. Raises CheckpointError if there is none."""
    link = Path(output_dir) / "checkpoints" / "last"
    if not (link / STATE_DIR / "training_step.json").is_file():
        raise CheckpointError(
            f"{link}: no complete checkpoint to resume from; train without --resume, or pass the --output_dir of "
            "an earlier run"
        )
    return link.resolve()


def load_checkpoint(checkpoint: Path, policy, optimizer, scheduler, ema=None, grad_scaler=None) -> dict:
    """Restores everything `save_checkpoint` wrote. Returns training_step.json's dict."""
    state_dir = Path(checkpoint) / STATE_DIR
    if ema is not None:
        policy.load_state_dict(load_file(str(state_dir / "model.safetensors")))
        ema.shadow = load_file(str(state_dir / "ema.safetensors"), device=str(policy.device))
        ema.num_updates = json.loads((state_dir / "ema.json").read_text())["num_updates"]
    else:
        policy.load_state_dict(load_file(str(Path(checkpoint) / PRETRAINED_DIR / "model.safetensors")))
    load_optimizer(optimizer, state_dir)
    scheduler.load_state_dict(json.loads((state_dir / "scheduler_state.json").read_text()))
    if grad_scaler is not None and (state_dir / "grad_scaler.json").is_file():
        grad_scaler.load_state_dict(json.loads((state_dir / "grad_scaler.json").read_text()))
    load_rng(state_dir)
    return json.loads((state_dir / "training_step.json").read_text())
