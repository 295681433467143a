"""Training-step and inference time of ACT, Diffusion Policy and the VLA: default configs and small CPU ones.

    python -m benchmarks.bench_policies [--quick] [--threads N] [--only vla]

One training step = forward + backward + gradient clipping + AdamW step on a synthetic PushT-shaped
batch (state (2,) + environment state (5,), optional 96x96 camera, action (2,)), so the number is
the model's cost without data loading. Inference = one `select_action` call that re-plans (ACT:
one transformer pass; Diffusion: 10 DDIM steps; VLA: backbone + 10 Euler steps of the action expert,
the batch carrying one instruction per sample). Prints median milliseconds over a few repeats, on
CPU and, when available, CUDA.
"""

from __future__ import annotations

import argparse
import statistics
import time
from types import SimpleNamespace

import numpy as np
import torch

from robotlearn.policies import make_policy


def pusht_meta(with_image: bool) -> SimpleNamespace:
    features = {
        "observation.state": {"dtype": "float32", "shape": [2], "names": None},
        "observation.environment_state": {"dtype": "float32", "shape": [5], "names": None},
        "action": {"dtype": "float32", "shape": [2], "names": None},
    }
    stats = {
        k: {
            "mean": np.zeros(f["shape"]),
            "std": np.ones(f["shape"]),
            "min": -np.ones(f["shape"]),
            "max": np.ones(f["shape"]),
        }
        for k, f in features.items()
    }
    if with_image:
        features["observation.images.top"] = {"dtype": "video", "shape": [96, 96, 3], "names": None}
        stats["observation.images.top"] = {
            s: np.full((3, 1, 1), v) for s, v in (("mean", 0.5), ("std", 0.25), ("min", 0.0), ("max", 1.0))
        }
    return SimpleNamespace(features=features, stats=stats, fps=10, tasks=INSTRUCTIONS)


INSTRUCTIONS = [
    f"push the {c} block to the {v} {h} corner"
    for c in ("red", "green", "blue")
    for v in ("top", "bottom")
    for h in ("left", "right")
]
"""The language benchmark's 12 training instructions (the VLA's vocabulary; others ignore them)."""


def synthetic_batch(policy, batch_size: int, device) -> dict:
    windows = policy.delta_timestamps(10)
    batch = {}
    for key, ft in policy.config.features.items():
        t = [len(windows[key])] if key in windows else []
        shape = [batch_size, *t, *ft["shape"]]
        if ft["type"] == "VISUAL":
            batch[key] = torch.randint(0, 256, shape, dtype=torch.uint8, device=device)
        else:
            batch[key] = torch.randn(shape, device=device)
        if t:
            batch[f"{key}_is_pad"] = torch.zeros(batch_size, t[0], dtype=torch.bool, device=device)
    batch["task"] = [INSTRUCTIONS[i % len(INSTRUCTIONS)] for i in range(batch_size)]  # read by the VLA only
    return batch


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_ms(fn, device, repeats: int) -> float:
    fn()  # warm-up (allocations, cuDNN autotuning)
    _sync(device)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        _sync(device)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


# (row label, policy, with a camera, config overrides): the defaults, then the small CPU configurations
# that docs/training.md trains for 15 minutes (narrow ResNet-18, small transformer / U-Net).
CPU_ACT = dict(dim_model=128, n_heads=4, dim_feedforward=512, n_encoder_layers=1, n_vae_encoder_layers=1)
CPU_DIFFUSION = dict(down_dims=(32, 64, 128))
ROWS = [
    ("act (state)", "act", False, {}),
    ("act (image+state)", "act", True, {}),
    ("diffusion (state)", "diffusion", False, {}),
    ("diffusion (image+state)", "diffusion", True, {}),
    ("act small (image, w16)", "act", True, {**CPU_ACT, "backbone_width": 16}),
    ("diff. small (image, w16)", "diffusion", True, {**CPU_DIFFUSION, "backbone_width": 16}),
    ("diff. small (state)", "diffusion", False, CPU_DIFFUSION),
    ("vla (image+state)", "vla", True, {}),
    ("vla (state)", "vla", False, {}),
]


def bench(policy_type: str, with_image: bool, batch_sizes, device, repeats: int, overrides: dict | None = None) -> dict:
    torch.manual_seed(0)
    policy = make_policy(policy_type, pusht_meta(with_image), **(overrides or {})).to(device)
    optimizer = torch.optim.AdamW(policy.parameters(), lr=1e-4)
    out = {"params_M": sum(p.numel() for p in policy.parameters()) / 1e6}
    policy.train()
    for bs in batch_sizes:
        batch = synthetic_batch(policy, bs, device)

        def step():
            loss, _ = policy(batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), 10.0)
            optimizer.step()

        out[f"train_b{bs}"] = time_ms(step, device, repeats)
    policy.eval()
    obs = {k: torch.rand(1, *ft["shape"], device=device) for k, ft in policy.config.features.items() if k != "action"}
    obs["task"] = INSTRUCTIONS[0]

    def infer():
        policy.reset()  # empty queues: every call re-plans
        policy.select_action(obs)

    out["select_action"] = time_ms(infer, device, repeats)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="batch 8 only, 2 repeats")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: torch's; 1 avoids oversubscription on a busy machine)",
    )
    parser.add_argument("--only", default="", help="comma-separated policy types to run (act, diffusion, vla)")
    args = parser.parse_args(argv if argv is not None else [])
    only = {t.strip() for t in args.only.split(",") if t.strip()}
    if args.threads:
        torch.set_num_threads(args.threads)
    batch_sizes = (8,) if args.quick else (8, 64)
    repeats = 2 if args.quick else 3
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    header = f"{'policy':<26}{'device':<7}{'params':>8}" + "".join(f"{'step b' + str(b):>12}" for b in batch_sizes)
    header += f"{'infer b1':>11}"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads; times in ms (median of {repeats})")
    print(header)
    print("-" * len(header))
    for device in devices:
        for name, policy_type, with_image, overrides in ROWS:
            if only and policy_type not in only:
                continue
            r = bench(policy_type, with_image, batch_sizes, device, repeats, overrides)
            row = f"{name:<26}{device.type:<7}{r['params_M']:>7.1f}M"
            row += "".join(f"{r[f'train_b{b}']:>12.1f}" for b in batch_sizes)
            print(row + f"{r['select_action']:>11.1f}", flush=True)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
