"""Training on two CPU processes (gloo, torchrun) gives the weights of one process with the same global
batch, and a process killed mid-run stops the job with a clear error; `--resume` then continues on
any number of processes with the same global data order."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from tests.conftest import FIXTURES
from tests.golden.policies import TINY_ACT, TINY_DIFFUSION, fixed_batch
from tests.policies.fakes import fake_meta

from robotlearn.policies import make_policy, make_policy_from_pretrained
from robotlearn.policies.per_sample import SAMPLE_SEED_KEY, sample_seeds
from robotlearn.scripts.train import parse_args
from robotlearn.training import train
from robotlearn.training.sampler import GlobalBatchSampler

REPO = Path(__file__).resolve().parents[2]
FIXTURE = str(FIXTURES / "pusht")
B = 8  # the global batch: 4 samples per process with 2 processes
STATE, STATE_AND_IMAGE = '["observation.state"]', '["observation.state","observation.image"]'
# Tiny models at the policies' default learning rates, with their default randomness: ACT draws its
# CVAE sample z; Diffusion its noise, timesteps and random 84x84 crops of the 96x96 camera. ACT's
# dropout is off: its masks are the one random draw that depends on the number of processes.
ACT = [
    "--policy.type=act",
    f"--policy.input_features={STATE}",
    "--policy.dim_model=32",
    "--policy.n_heads=2",
    "--policy.dim_feedforward=64",
    "--policy.n_encoder_layers=1",
    "--policy.n_vae_encoder_layers=1",
    "--policy.latent_dim=4",
    "--policy.chunk_size=6",
    "--policy.n_action_steps=3",
    "--policy.dropout=0",
]
DIFFUSION = [
    "--policy.type=diffusion",
    "--policy.down_dims=[16,32]",
    "--policy.diffusion_step_embed_dim=16",
    "--policy.horizon=8",
    "--policy.n_action_steps=4",
    "--policy.spatial_softmax_num_keypoints=4",
    "--policy.backbone_width=16",
    "--policy.warmup_steps=0",
]


def train_argv(policy: list[str], out: Path, steps: int, extra=()) -> list[str]:
    return [
        *policy,
        f"--dataset.root={FIXTURE}",
        "--dataset.repo_id=lerobot/pusht",
        f"--steps={steps}",
        f"--batch_size={B}",
        "--num_workers=0",
        "--num_threads=1",
        f"--output_dir={out}",
        f"--save_freq={steps}",
        f"--log_freq={steps}",
        "--seed=7",
        "--device=cpu",
        "--progress=false",
        *extra,
    ]


def subprocess_env(**extra) -> dict:
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1", "PYTHONPATH": path, **extra}


def train_here(argv: list[str]) -> None:
    """One process: train() in the test's own process (its torch thread count restored afterwards)."""
    threads = torch.get_num_threads()
    try:
        train(parse_args(argv))
    finally:
        torch.set_num_threads(threads)


def assert_same_weights(expected_run: Path, actual_run: Path, lr: float, steps: int) -> None:
    """The raw training weights (and the EMA weights, when kept) of two runs' last checkpoints agree.

    The two runs' gradients differ only in the order of their float sums (~1e-7 relative), but AdamW
    divides each gradient element by its running RMS, which amplifies rounding where a gradient is
    small next to the rest of its tensor (the ResNet's), and a weight whose gradient is zero by
    construction moves by rounding noise alone, up to lr per step. Those, whose RMS gradient stays
    below AdamW's eps (1e-8), are not compared: the attention key biases and the spatial-softmax
    bias, to which a softmax is blind, and ACT's first decoder self-attention, whose queries start
    at zero so that it returns its value bias whatever its weights. Of the rest, 99.9% must agree
    within lr / 10 and all within a tenth of what `steps` steps can move a weight (steps * lr)."""

    def last(run: Path) -> Path:
        return Path(run) / "checkpoints" / "last"

    names = [n for n, _ in make_policy_from_pretrained(last(expected_run) / "pretrained_model").named_parameters()]
    exp_avg_sq = load_file(str(last(expected_run) / "training_state" / "optimizer_state.safetensors"))
    compared = {name: exp_avg_sq[f"state.{i}.exp_avg_sq"].sqrt() > 1e-8 for i, name in enumerate(names)}
    n_compared = sum(int(m.sum()) for m in compared.values())
    assert n_compared > 0.8 * sum(m.numel() for m in compared.values()), "most weights must be compared"
    parts = ["pretrained_model/model.safetensors"]
    if (last(expected_run) / "training_state" / "model.safetensors").is_file():
        parts.append("training_state/model.safetensors")  # with EMA: pretrained_model holds the EMA weights
    for part in parts:
        expected, actual = load_file(str(last(expected_run) / part)), load_file(str(last(actual_run) / part))
        assert expected.keys() == actual.keys()
        diffs = {n: (actual[n] - expected[n]).abs()[compared[n]] for n in names}
        diff = torch.cat(list(diffs.values()))
        worst = max((d.max().item(), n) for n, d in diffs.items() if d.numel())
        assert worst[0] <= 0.1 * steps * lr, f"{part}: {worst[1]} differs by {worst[0]:.3g}"
        far = (diff > lr / 10).float().mean().item()
        assert far < 1e-3, f"{part}: {far:.2%} of the weights differ by more than lr / 10 = {lr / 10:g}"


def test_global_batches_are_the_same_whatever_the_number_of_processes():
    one = iter(GlobalBatchSampler(20, seed=3, batch_size=8, start=5))
    expected = [next(one) for _ in range(6)]  # crosses epoch boundaries
    for world in (2, 4):
        ranks = [
            iter(GlobalBatchSampler(20, seed=3, batch_size=8, start=5, rank=r, world_size=world)) for r in range(world)
        ]
        got = [sum((next(r) for r in ranks), []) for _ in range(6)]
        assert got == expected
    with pytest.raises(ValueError, match="3 equal slices"):
        GlobalBatchSampler(20, seed=3, batch_size=8, world_size=3)


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: more threads only wait on each other (the tests run 2 at a time)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("policy_type,with_image", [("act", False), ("diffusion", True)])
def test_per_sample_draws_make_a_batch_gradient_the_mean_of_its_halves_gradients(policy_type, with_image, one_thread):
    torch.manual_seed(0)
    overrides = {"act": TINY_ACT, "diffusion": TINY_DIFFUSION}[policy_type]
    policy = make_policy(policy_type, fake_meta(with_image), **overrides).train()
    batch = {k: v.repeat(2, *[1] * (v.dim() - 1)) for k, v in fixed_batch(policy).items()}  # 6 samples
    batch["action_is_pad"][:2, -4:] = True  # padding that differs between the halves
    batch[SAMPLE_SEED_KEY] = sample_seeds(7, 3, torch.arange(6))

    def gradients(part: slice) -> dict:
        policy.zero_grad()
        policy({k: v[part] for k, v in batch.items()})[0].backward()
        return {n: p.grad.clone() for n, p in policy.named_parameters() if p.grad is not None}

    whole, first, second = gradients(slice(0, 6)), gradients(slice(0, 3)), gradients(slice(3, 6))
    for name, grad in whole.items():
        # float rounding, relative to the tensor's largest gradient (1e-7 for those that are zero by construction)
        atol = max(1e-5 * grad.abs().max().item(), 1e-7)
        torch.testing.assert_close((first[name] + second[name]) / 2, grad, rtol=0, atol=atol, msg=name)


def test_two_processes_reach_the_weights_of_one_process_with_the_same_global_batch(tmp_path):
    runs = {"act": ACT, "diffusion": [*DIFFUSION, f"--policy.input_features={STATE_AND_IMAGE}"]}
    argvs = [train_argv(flags, tmp_path / f"two_{name}", 20) for name, flags in runs.items()]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    proc = subprocess.run(
        [*cmd, str(REPO / "tests" / "training" / "ddp_job.py"), json.dumps(argvs)],
        cwd=REPO,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("2 processes of 4 samples") == 2  # printed by process 0 only
    for name, flags in runs.items():
        train_here(train_argv(flags, tmp_path / f"one_{name}", 20))
        lr = {"act": 1e-5, "diffusion": 1e-4}[name]  # the policies' defaults
        assert_same_weights(tmp_path / f"one_{name}", tmp_path / f"two_{name}", lr, steps=20)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def last_step(run: Path) -> int:
    path = run / "checkpoints" / "last" / "training_state" / "training_step.json"
    return json.loads(path.read_text())["step"] if path.is_file() else 0


def test_a_killed_process_stops_the_job_with_an_error_and_resume_continues_on_one_process(tmp_path):
    run = tmp_path / "killed"
    # A constant learning rate: the resumed run may change --steps without changing the schedule.
    flags = [*DIFFUSION, f"--policy.input_features={STATE}", "--policy.scheduler=constant"]
    argv = train_argv(flags, run, 10**6, extra=["--save_freq=5"])
    launcher = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port()), "WORLD_SIZE": "2"}
    procs = [  # what torchrun does: the same command, told its rank through the environment
        subprocess.Popen(
            [sys.executable, "-m", "robotlearn.scripts.cli", "train", *argv],
            cwd=REPO,
            env=subprocess_env(**launcher, RANK=str(rank), LOCAL_RANK=str(rank)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for rank in range(2)
    ]
    try:
        deadline = time.monotonic() + 120
        while last_step(run) < 10:
            assert all(p.poll() is None for p in procs), procs[0].communicate()
            assert time.monotonic() < deadline, "no checkpoint at step 10 after 120 s"
            time.sleep(0.02)
        os.kill(procs[1].pid, signal.SIGKILL)
        _, err = procs[0].communicate(timeout=60)  # the survivor stops: no hang
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    assert procs[1].returncode == -signal.SIGKILL
    assert procs[0].returncode == 2, err
    assert "process 0 of 2 lost contact with the other training processes" in err
    assert "--resume" in err

    # Resume in one process from the last checkpoint that process 0 wrote, 3 steps further; the
    # result is what one process trained from the start would have reached.
    stopped = last_step(run)
    train_here([f"--output_dir={run}", "--resume", f"--steps={stopped + 3}"])
    state = json.loads((run / "checkpoints" / "last" / "training_state" / "training_step.json").read_text())
    assert state["step"] == stopped + 3 and state["samples_seen"] == (stopped + 3) * B
    train_here(train_argv(flags, tmp_path / "uninterrupted", stopped + 3))
    assert_same_weights(tmp_path / "uninterrupted", run, lr=1e-4, steps=stopped + 3)
