"""`robotlearn train` / `robotlearn eval` end to end on the reference PushT fixture (tiny models, few steps)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from tests.conftest import FIXTURES

from robotlearn.configs import ConfigError
from robotlearn.policies import make_policy_from_pretrained
from robotlearn.scripts.train import parse_args as parse_train_args
from robotlearn.training import train
from robotlearn.training.checkpoint import CheckpointError

FIXTURE = str(FIXTURES / "pusht")  # written by the reference lerobot 0.6.1

TINY = {
    "act": [
        "--policy.dim_model=32",
        "--policy.n_heads=2",
        "--policy.dim_feedforward=64",
        "--policy.n_encoder_layers=1",
        "--policy.n_vae_encoder_layers=1",
        "--policy.latent_dim=4",
        "--policy.chunk_size=6",
        "--policy.n_action_steps=3",
        "--policy.lr=1e-3",
    ],
    "diffusion": [
        "--policy.down_dims=[16,32]",
        "--policy.diffusion_step_embed_dim=16",
        "--policy.horizon=8",
        "--policy.n_action_steps=4",
        "--policy.spatial_softmax_num_keypoints=4",
        "--policy.num_inference_steps=4",
        "--policy.warmup_steps=2",
        "--policy.lr=1e-3",
    ],
}


def train_argv(policy_type, out, steps, with_image, extra=()):
    inputs = '["observation.state","observation.image"]' if with_image else '["observation.state"]'
    return [
        f"--policy.type={policy_type}",
        f"--dataset.root={FIXTURE}",
        "--dataset.repo_id=lerobot/pusht",
        f"--steps={steps}",
        "--batch_size=4",
        "--num_workers=0",
        f"--output_dir={out}",
        "--save_freq=3",
        "--log_freq=1",
        "--seed=7",
        "--device=cpu",
        "--progress=false",
        f"--policy.input_features={inputs}",
        *TINY[policy_type],
        *extra,
    ]


def observation(with_image):
    g = torch.Generator().manual_seed(0)
    obs = {"observation.state": torch.tensor([[250.0, 300.0]])}
    if with_image:
        obs["observation.image"] = torch.rand(1, 3, 96, 96, generator=g)
    return obs


@pytest.mark.parametrize(
    "policy_type,with_image", [("act", False), ("act", True), ("diffusion", False), ("diffusion", True)]
)
def test_train_saves_a_checkpoint_that_reloads_with_identical_actions(tmp_path, policy_type, with_image):
    steps = 2 if with_image else 3  # the ResNet-18 makes image steps (and checkpoints) costly on CPU
    result = train(parse_train_args(train_argv(policy_type, tmp_path / "run", steps, with_image)))
    ckpt = tmp_path / "run" / "checkpoints" / "last"
    assert ckpt.resolve() == result.checkpoint_dir and result.checkpoint_dir.name == f"{steps:06d}"
    step = json.loads((ckpt / "training_state" / "training_step.json").read_text())
    assert step == {"step": steps, "samples_seen": 4 * steps, "seed": 7}
    assert not list(ckpt.rglob("*.pt")) and not list(ckpt.rglob("*.pkl"))

    # normalization statistics travel inside model.safetensors
    weights = load_file(str(ckpt / "pretrained_model" / "model.safetensors"))
    stats = json.loads((Path(FIXTURE) / "meta" / "stats.json").read_text())
    stat = "min" if policy_type == "diffusion" else "mean"
    torch.testing.assert_close(
        weights[f"normalizer.observation_state__{stat}"],
        torch.tensor(stats["observation.state"][stat], dtype=torch.float32),
    )
    assert any(k.startswith("normalizer.observation_image") for k in weights) == with_image

    reloaded = make_policy_from_pretrained(tmp_path / "run")
    obs = observation(with_image)
    result.policy.reset(), reloaded.reset()
    for _ in range(5):  # crosses a re-planning boundary (n_action_steps 3 / 4)
        torch.manual_seed(11)
        a = result.policy.select_action(obs)
        torch.manual_seed(11)
        b = reloaded.select_action(obs)
        assert a.shape == (1, 2) and torch.isfinite(a).all()
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("policy_type", ["act", "diffusion"])
def test_resume_after_interruption_matches_an_uninterrupted_run(tmp_path, policy_type):
    full = tmp_path / "full"
    train(parse_train_args(train_argv(policy_type, full, 6, with_image=False)))
    # "Kill" the run after its step-3 checkpoint: what is left on disk is checkpoint 3, `last` pointing at it.
    cut = tmp_path / "cut"
    shutil.copytree(full, cut, symlinks=True)
    shutil.rmtree(cut / "checkpoints" / "000006")
    (cut / "checkpoints" / "last").unlink()
    (cut / "checkpoints" / "last").symlink_to("000003")
    # Resume from the saved config; only --output_dir and --resume are given.
    train(parse_train_args([f"--output_dir={cut}", "--resume", "--progress=false"]))

    for part in ("pretrained_model/model.safetensors", "training_state/optimizer_state.safetensors"):
        a, b = load_file(str(full / "checkpoints/000006" / part)), load_file(str(cut / "checkpoints/000006" / part))
        assert a.keys() == b.keys()
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=f"{part}: {key} differs")
    # ... and both differ from the step-3 weights, so the comparison is not vacuous
    w3 = load_file(str(full / "checkpoints/000003/pretrained_model/model.safetensors"))
    w6 = load_file(str(full / "checkpoints/000006/pretrained_model/model.safetensors"))
    assert any(not torch.equal(w3[k], w6[k]) for k in w3)
    step = json.loads((cut / "checkpoints/last/training_state/training_step.json").read_text())
    assert step["step"] == 6 and step["samples_seen"] == 24


def test_time_limit_stops_with_a_checkpoint_that_resume_continues(tmp_path, capsys):
    run = tmp_path / "run"
    result = train(parse_train_args(train_argv("diffusion", run, 10**6, with_image=False, extra=["--time_limit_s=2"])))
    stopped = json.loads((result.checkpoint_dir / "training_state" / "training_step.json").read_text())["step"]
    assert 0 < stopped < 10**6 and result.checkpoint_dir == (run / "checkpoints" / "last").resolve()
    assert "--time_limit_s=2 reached" in capsys.readouterr().out
    train(parse_train_args([f"--output_dir={run}", "--resume", f"--steps={stopped + 2}", "--time_limit_s=0"]))
    assert json.loads((run / "checkpoints/last/training_state/training_step.json").read_text())["step"] == stopped + 2


def test_train_refuses_to_overwrite_and_resume_needs_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="no complete checkpoint"):
        parse_train_args([f"--output_dir={tmp_path / 'nothing'}", "--resume"])
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    with pytest.raises(ConfigError, match="--resume"):
        train(parse_train_args(train_argv("act", tmp_path / "run", 1, with_image=False)))
    with pytest.raises(ConfigError, match="did you mean --policy.chunk_size"):
        parse_train_args(["--policy.type=act", "--policy.chunk_sze=3"])


def test_eval_cli_reports_success_rate_and_writes_browser_playable_videos(tmp_path):
    import av

    train(parse_train_args(train_argv("diffusion", tmp_path / "run", 1, with_image=True)))
    cmd = [
        sys.executable,
        "-m",
        "robotlearn.scripts.cli",
        "eval",
        f"--policy.path={tmp_path / 'run/checkpoints/last/pretrained_model'}",
        "--env.type=pusht",
        "--eval.n_episodes=2",
        "--eval.seed=5",
        "--eval.max_steps=8",
        "--eval.n_videos=1",
        f"--output_dir={tmp_path / 'eval'}",
        "--device=cpu",
        "--progress=false",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONHASHSEED": "0"})
    assert proc.returncode == 0, proc.stderr
    assert "success rate" in proc.stdout
    info = json.loads((tmp_path / "eval" / "eval_info.json").read_text())
    assert [e["seed"] for e in info["per_episode"]] == [5, 6]
    assert all(e["steps"] == 8 and not e["success"] for e in info["per_episode"])  # untrained: times out
    assert set(info["aggregated"]) >= {"success_rate", "avg_sum_reward", "avg_max_reward"}
    for e in info["per_episode"]:
        assert 0.0 <= e["max_reward"] <= 1.0 and e["sum_reward"] <= e["steps"] * e["max_reward"] + 1e-9
    videos = sorted((tmp_path / "eval" / "videos").iterdir())
    assert [v.name for v in videos] == ["eval_episode_0.mp4"]
    with av.open(str(videos[0])) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert sum(1 for _ in container.decode(stream)) == 9  # the initial frame + one per step


def test_evaluate_policy_is_reproducible_for_a_seed(tmp_path):
    from robotlearn.evaluation import evaluate_policy

    result = train(parse_train_args(train_argv("act", tmp_path / "run", 1, with_image=False)))
    runs = [evaluate_policy(result.policy, 2, seed=3, max_steps=8, progress=False) for _ in range(2)]
    assert runs[0]["per_episode"] == runs[1]["per_episode"]
    assert runs[0]["per_episode"][0]["seed"] == 3


def test_train_help_lists_the_chosen_policys_flags(capsys):
    for policy_type, flag in (("act", "--policy.kl_weight"), ("diffusion", "--policy.num_inference_steps")):
        with pytest.raises(SystemExit):
            parse_train_args([f"--policy.type={policy_type}", "--help"])
        out = capsys.readouterr().out
        assert flag in out and "--dataset.root" in out and "--eval.n_episodes" in out


def test_eval_overrides_change_inference_settings_and_reject_others(tmp_path):
    from robotlearn.policies.overrides import apply_inference_overrides

    train(parse_train_args(train_argv("act", tmp_path / "run", 1, with_image=False)))
    policy = make_policy_from_pretrained(tmp_path / "run/checkpoints/last/pretrained_model")
    calls = []
    original = policy.predict_chunk
    policy.predict_chunk = lambda *a: calls.append(1) or original(*a)
    policy.reset()
    for _ in range(6):
        policy.select_action(observation(False))
    assert len(calls) == 2  # chunks of 3 executed actions
    apply_inference_overrides(policy, {"n_action_steps": 1, "temporal_ensemble_coeff": 0.01})
    calls.clear()
    for _ in range(6):
        policy.select_action(observation(False))
    assert len(calls) == 6  # a new chunk every step, ensembled
    with pytest.raises(ConfigError, match="num_inference_steps"):  # a diffusion setting, not ACT's
        apply_inference_overrides(policy, {"num_inference_steps": 3})
    with pytest.raises(ConfigError, match="n_action_steps=1"):
        apply_inference_overrides(policy, {"n_action_steps": 3})
