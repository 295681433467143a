"""Training throughput on 1 vs 2 processes (DDP) for the quickstart's config; on CUDA with AMP off/on when present.

    python -m benchmarks.bench_distributed [--episodes 20] [--steps 60] [--log_freq 10]

Records once (cached in bench_data/distributed_pusht/) a quickstart dataset of scripted PushT
demonstrations, then runs `robotlearn train` with the quickstart's training settings (state-based
Diffusion, U-Net 32/64/128, global batch 256, per process 1 DataLoader worker and 1 torch thread)
in one process and under `torchrun --standalone --nproc_per_node=2` (gloo on the CPU), and prints
samples/s of the global batch: the median over the --log_freq intervals after the first (which
holds the start-up). On a 2-core machine both processes and their DataLoader workers share the
two cores, so the figure is what two cores give, not a scaling law. With a GPU: one process per
GPU (NCCL), --use_amp off and on (bf16); without one the GPU rows say "no GPU: unmeasured".
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from robotlearn.configs import config_to_flags
from robotlearn.quickstart.plan import QuickstartConfig, make_plan

BENCH_DATA = Path(__file__).resolve().parents[1] / "bench_data"
STEP_LINE = re.compile(r"step (\d+)/\d+: loss [-0-9.e+naninf]+, ([0-9.]+) samples/s")


def dataset(episodes: int) -> Path:
    """A quickstart dataset of `episodes` scripted demonstrations (recorded once)."""
    root = BENCH_DATA / f"distributed_pusht_{episodes}"
    if not (root / "meta" / "info.json").is_file():
        from robotlearn.recording.session import record

        shutil.rmtree(root, ignore_errors=True)
        root.parent.mkdir(parents=True, exist_ok=True)
        log = root.parent / f"{root.name}.record.log"
        print(f"recording {episodes} scripted PushT demonstrations into {root} (once; log: {log}) ...", flush=True)
        plan = make_plan(QuickstartConfig(episodes=episodes))
        record_cfg = dataclasses.replace(plan.record, dataset=dataclasses.replace(plan.record.dataset, root=str(root)))
        with open(log, "w") as f, contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
            record(record_cfg)
    return root


def train_flags(root: Path, out: Path, steps: int, log_freq: int, device: str, amp: bool) -> list[str]:
    """`robotlearn train` flags of the quickstart's training phase on `root`, shortened to `steps`."""
    plan = make_plan(QuickstartConfig())
    cfg = dataclasses.replace(
        plan.train,
        dataset=dataclasses.replace(plan.train.dataset, root=str(root)),
        steps=steps,
        log_freq=log_freq,
        save_freq=steps,
        output_dir=str(out),
        device=device,
        use_amp=amp,
        progress=False,
    )
    return config_to_flags(cfg)


def samples_per_s(processes: int, flags: list[str]) -> tuple[float, int, int]:
    """Median samples/s of the logged intervals after the first; with the global and per-process batch."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    if processes == 1:
        cmd = [sys.executable, "-m", "robotlearn.scripts.cli", "train", *flags]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"]
        cmd += ["-m", "robotlearn.scripts.cli", "train", *flags]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    rates = [float(m.group(2)) for m in STEP_LINE.finditer(proc.stdout)]
    if len(rates) < 2:
        raise RuntimeError(f"too few logged steps to measure (need >= 2 intervals):\n{proc.stdout[-2000:]}")
    batch = int(next(f.split("=", 1)[1] for f in flags if f.startswith("--batch_size=")))
    return statistics.median(rates[1:]), batch, batch // processes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=20, help="demonstrations in the benchmark dataset")
    parser.add_argument("--steps", type=int, default=60, help="training steps per run")
    parser.add_argument("--log_freq", type=int, default=10, help="steps per measured interval")
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    root = dataset(args.episodes)
    rows = [("cpu", False, 1), ("cpu", False, 2)]
    n_gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    for amp in (False, True):
        rows += [("cuda", amp, n) for n in sorted({1, n_gpus}) if n_gpus]
    print(
        f"torch {torch.__version__}, {os.cpu_count()} CPU cores, {n_gpus} GPU(s); the quickstart's Diffusion "
        f"(state), {args.steps} steps, samples/s of the global batch (median of {args.log_freq}-step intervals)"
    )
    print("| processes | device | AMP | global batch | per process | samples/s | vs 1 process |")
    print("|---|---|---|---|---|---|---|")
    base: dict[tuple[str, bool], float] = {}
    with tempfile.TemporaryDirectory(prefix="robotlearn-bench-ddp-") as tmp:
        for i, (device, amp, processes) in enumerate(rows):
            flags = train_flags(root, Path(tmp) / f"run{i}", args.steps, args.log_freq, device, amp)
            rate, batch, per_process = samples_per_s(processes, flags)
            base.setdefault((device, amp), rate)
            ratio = rate / base[(device, amp)]
            amp_text = "bf16" if amp else "off"
            print(
                f"| {processes} | {device} | {amp_text} | {batch} | {per_process} | {rate:.0f} | {ratio:.2f}x |",
                flush=True,
            )
    if not n_gpus:
        print("| 1 | cuda | off / bf16 | 256 | 256 | no GPU: unmeasured | |")


if __name__ == "__main__":
    main()
