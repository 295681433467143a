"""The short-config quickstart golden: the commands it runs and what is read back from their outputs.

Two runs of `robotlearn quickstart` (3 scripted demonstrations of 5 s by the default feedback expert,
recorded by 2 processes and merged, 50 training steps on one thread, 2 evaluation episodes of at most
100 steps from reset seeds 100003, 100004):

- "act": the quickstart's default policy, ACT (no CVAE, dropout 0): training, evaluation and the checkpoint's actions
  are all deterministic, so everything is compared.
- "diffusion": the quickstart's other policy. Training is deterministic, but `robotlearn eval` does
  not seed torch, so Diffusion's sampling noise (and the policy's evaluation rewards) changes from
  run to run: its policy evaluation is not compared, only its losses, the expert's evaluation and
  the checkpoint's actions under a fixed torch seed.

Output files read (the refactor must keep writing them):
- <output_dir>/train_metrics.jsonl           one JSON object per logged step: step, loss, ...
- <output_dir>/eval/eval_info.json           "per_episode": seed, success, sum_reward, max_reward, steps
- <output_dir>/eval_expert/eval_info.json    the same for the scripted expert
- <output_dir>/train/checkpoints/last/pretrained_model/   config.json + model.safetensors, loaded with
  robotlearn.policies.make_policy_from_pretrained
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "golden"
CASES = ("act", "diffusion")
EVAL_SEED, EVAL_MAX_STEPS = 100_003, 100  # the feedback expert succeeds on 100003 (92 steps), not on 100004 (140)
# Values of train_metrics.jsonl that depend on the machine's speed, not on the computation.
TIMING_KEYS = ("samples_per_s",)
N_INPUTS, N_CALLS = 3, 6  # observations per batch; select_action calls (crosses re-planning boundaries)
ACTION_SEED = 7  # torch seed set after reset() before the select_action calls (Diffusion samples noise)


def quickstart_argv(policy_type: str, output_dir: Path) -> list[str]:
    """`robotlearn quickstart` flags of the golden run (fast, single-threaded, CPU, no videos)."""
    return [
        f"--policy.type={policy_type}",
        "--episodes=3",
        "--episode_time_s=5",
        "--steps=50",
        "--batch_size=16",
        "--num_workers=0",
        "--num_threads=1",
        "--eval.n_episodes=2",
        f"--eval.seed={EVAL_SEED}",
        f"--eval.max_steps={EVAL_MAX_STEPS}",
        "--eval.n_videos=0",
        "--device=cpu",
        "--progress=false",
        "--seed=0",
        f"--output_dir={output_dir}",
    ]


def run_quickstart(policy_type: str, output_dir: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Runs the golden quickstart as a subprocess (`python -m robotlearn.scripts.cli quickstart ...`)."""
    cmd = [sys.executable, "-m", "robotlearn.scripts.cli", "quickstart", *quickstart_argv(policy_type, output_dir)]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"},
    )
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def fixed_observations() -> dict[str, torch.Tensor]:
    """(N_CALLS, N_INPUTS, ...) PushT-like observations: agent position and block pose in pixels/radians."""
    g = torch.Generator().manual_seed(2024)
    state = 100 + 300 * torch.rand(N_CALLS, N_INPUTS, 2, generator=g)
    block = 100 + 300 * torch.rand(N_CALLS, N_INPUTS, 2, generator=g)
    angle = 6.28 * torch.rand(N_CALLS, N_INPUTS, 1, generator=g)
    return {"observation.state": state, "observation.environment_state": torch.cat([state, block, angle], dim=-1)}


def checkpoint_actions(checkpoint: Path, observations: dict[str, torch.Tensor]) -> torch.Tensor:
    """select_action on observations[:, t] for t = 0..N_CALLS-1 after reset(): actions (N_CALLS, N_INPUTS, 2)."""
    from robotlearn.policies import make_policy_from_pretrained

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        policy = make_policy_from_pretrained(checkpoint, device="cpu")
        policy.eval()
        policy.reset()
        torch.manual_seed(ACTION_SEED)
        n_calls = next(iter(observations.values())).shape[0]
        return torch.stack([policy.select_action({k: v[t] for k, v in observations.items()}) for t in range(n_calls)])
    finally:
        torch.set_num_threads(threads)


def read_outputs(policy_type: str, output_dir: Path, observations: dict[str, torch.Tensor]) -> dict:
    """What the golden compares, read from the output files named in this module's docstring."""
    rows = [json.loads(line) for line in (output_dir / "train_metrics.jsonl").read_text().splitlines() if line]
    metrics = [{k: v for k, v in row.items() if k not in TIMING_KEYS} for row in rows]
    expert = json.loads((output_dir / "eval_expert" / "eval_info.json").read_text())["per_episode"]
    policy = json.loads((output_dir / "eval" / "eval_info.json").read_text())["per_episode"]
    checkpoint = output_dir / "train" / "checkpoints" / "last" / "pretrained_model"
    return {
        "train_metrics": metrics,
        "eval_per_episode": policy if policy_type == "act" else None,  # see the module docstring
        "eval_expert_per_episode": expert,
        "actions": checkpoint_actions(checkpoint, observations),
    }


def golden_paths(policy_type: str) -> tuple[Path, Path]:
    """(JSON of metrics and evaluations, safetensors of checkpoint inputs and actions)."""
    return GOLDEN_DIR / f"quickstart_{policy_type}.json", GOLDEN_DIR / f"quickstart_{policy_type}.safetensors"


def regenerate(policy_type: str, work_dir: Path) -> None:
    from safetensors.torch import save_file

    out = work_dir / f"quickstart_{policy_type}"
    run_quickstart(policy_type, out)
    observations = fixed_observations()
    outputs = read_outputs(policy_type, out, observations)
    json_path, tensors_path = golden_paths(policy_type)
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    record = {
        "argv": quickstart_argv(policy_type, Path("<tmp>")),
        **{k: v for k, v in outputs.items() if k != "actions"},
    }
    json_path.write_text(json.dumps(record, indent=1) + "\n")
    save_file(
        {**{f"input.{k}": v.contiguous() for k, v in observations.items()}, "actions": outputs["actions"].contiguous()},
        str(tensors_path),
    )
