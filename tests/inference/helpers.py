"""Shared by the inference tests: tiny PushT-shaped policies, and a policy server in its own process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from types import SimpleNamespace

import numpy as np

IMG = 96  # sim_pusht's camera: the client sends it as is
TINY = {
    "act": dict(
        dim_model=32,
        n_heads=2,
        dim_feedforward=64,
        n_encoder_layers=1,
        n_vae_encoder_layers=1,
        latent_dim=4,
        chunk_size=16,
        n_action_steps=8,
        dropout=0.0,
        backbone_width=16,
    ),
    "diffusion": dict(
        down_dims=(16, 32),
        diffusion_step_embed_dim=16,
        horizon=16,
        n_action_steps=8,
        crop_shape=(88, 88),
        spatial_softmax_num_keypoints=4,
        num_inference_steps=3,
        backbone_width=16,
    ),
}


def pusht_meta(image_size: int = IMG):
    features = {
        "observation.state": {"dtype": "float32", "shape": [2], "names": ["agent_x", "agent_y"]},
        "observation.images.top": {
            "dtype": "video",
            "shape": [image_size, image_size, 3],
            "names": ["height", "width", "channels"],
        },
        "action": {"dtype": "float32", "shape": [2], "names": ["target_x", "target_y"]},
    }
    stats = {
        "observation.state": {
            "mean": np.array([256.0, 256.0]),
            "std": np.array([100.0, 100.0]),
            "min": np.array([0.0, 0.0]),
            "max": np.array([512.0, 512.0]),
        },
        "observation.images.top": {
            "mean": np.full((3, 1, 1), 0.5),
            "std": np.full((3, 1, 1), 0.25),
            "min": np.zeros((3, 1, 1)),
            "max": np.ones((3, 1, 1)),
        },
        "action": {
            "mean": np.array([256.0, 256.0]),
            "std": np.array([100.0, 100.0]),
            "min": np.array([0.0, 0.0]),
            "max": np.array([512.0, 512.0]),
        },
    }
    return SimpleNamespace(features=features, stats=stats, fps=10)


def tiny_policy(policy_type: str, **overrides):
    import torch

    from robotlearn.policies import make_policy

    torch.manual_seed(0)
    return make_policy(policy_type, pusht_meta(), **{**TINY[policy_type], **overrides}).eval()


def pusht_observation(seed: int = 0) -> dict:
    """An unbatched observation as the robot client sends it: (H, W, 3) uint8 image, (2,) float32 state."""
    rng = np.random.default_rng(seed)
    return {
        "observation.images.top": rng.integers(0, 256, (IMG, IMG, 3), dtype=np.uint8),
        "observation.state": rng.uniform(100, 400, 2).astype(np.float32),
    }


class ServerProcess:
    """`robotlearn serve-policy ARGS --port=PORT` in a subprocess; `address` once it listens."""

    def __init__(self, *args: str, port: int = 0, env: dict | None = None, timeout_s: float = 120.0):
        self.args = [*args, f"--port={port}"]
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "robotlearn.scripts.cli", "serve-policy", *self.args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=full_env,
            stdin=subprocess.DEVNULL,
        )
        self.lines: list[str] = []
        deadline = time.monotonic() + timeout_s
        self.address = None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            m = re.search(r"serving it on (\S+)", line)
            if m:
                self.address = m.group(1)
                break
        if self.address is None:
            self.kill()
            raise RuntimeError("server did not start:\n" + "".join(self.lines))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def output(self) -> str:
        """The server's output so far (after stop)."""
        return "".join(self.lines) + (self.proc.stdout.read() if self.proc.poll() is not None else "")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
