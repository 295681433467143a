"""ACT and Diffusion Policy on synthetic tensors: losses, inference queues, save/reload, normalization."""

import numpy as np
import pytest
import torch
from tests.policies.fakes import IMG, fake_meta

from robotlearn.errors import ConfigError, UnknownTypeError
from robotlearn.policies import PolicyConfigError, make_policy, make_policy_from_pretrained
from robotlearn.policies.normalize import NormalizationError, Normalizer
from robotlearn.policies.resnet import ResNet18, ResNetWeightsError

TINY = {
    "act": dict(
        dim_model=32,
        n_heads=2,
        dim_feedforward=64,
        n_encoder_layers=1,
        n_vae_encoder_layers=1,
        latent_dim=4,
        chunk_size=6,
        n_action_steps=3,
        dropout=0.0,
    ),
    "diffusion": dict(
        down_dims=(16, 32),
        diffusion_step_embed_dim=16,
        horizon=8,
        n_action_steps=4,
        crop_shape=(44, 44),
        spatial_softmax_num_keypoints=4,
        num_inference_steps=5,
    ),
}


def fake_batch(policy, b=4, seed=0):
    """A batch shaped like the DataLoader's output for this policy's delta_timestamps."""
    g = torch.Generator().manual_seed(seed)
    windows = policy.delta_timestamps(10)
    batch = {}
    for key, ft in policy.config.features.items():
        t = len(windows[key]) if key in windows else None
        shape = ([b] if t is None else [b, t]) + list(ft["shape"])
        if ft["type"] == "VISUAL":
            batch[key] = torch.randint(0, 256, shape, generator=g, dtype=torch.uint8)
        else:
            batch[key] = 100 + 300 * torch.rand(shape, generator=g)
        if t is not None:
            batch[f"{key}_is_pad"] = torch.zeros(b, t, dtype=torch.bool)
    batch["action_is_pad"][:, -2:] = True  # the last steps run past the episode end
    return batch


def observation(b=2, with_image=True, seed=1):
    g = torch.Generator().manual_seed(seed)
    obs = {"observation.state": 100 + 300 * torch.rand(b, 2, generator=g)}
    if with_image:
        obs["observation.images.top"] = torch.rand(b, 3, IMG, IMG, generator=g)
    return obs


CASES = [("act", False), ("act", True), ("diffusion", False), ("diffusion", True)]


@pytest.mark.parametrize("policy_type,with_image", CASES)
def test_policy_overfits_one_batch_and_reloads_with_identical_actions(tmp_path, policy_type, with_image):
    torch.manual_seed(0)
    policy = make_policy(policy_type, fake_meta(with_image), **TINY[policy_type])
    assert ("observation.images.top" in policy.config.features) == with_image
    assert "next.reward" not in policy.config.features
    batch = fake_batch(policy)
    opt = torch.optim.Adam(policy.parameters(), lr=3e-3)
    if with_image:
        backbone = policy.backbone if policy_type == "act" else policy.encoder.backbone
        conv1_before = backbone.conv1.weight.clone()
    losses = []
    # The ResNet makes image steps slow on CPU: fewer steps there, and check the backbone learns.
    for _ in range(8 if with_image else 20):
        torch.manual_seed(1)  # same noise / timesteps / crops each step: a fixed objective
        loss, info = policy(batch)
        assert torch.isfinite(loss) and info["loss"] == pytest.approx(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < (0.8 if with_image else 0.5) * losses[0]
    if with_image:
        assert not torch.equal(backbone.conv1.weight, conv1_before)  # gradients reach the image encoder

    policy.eval()
    policy.save_pretrained(tmp_path / "pretrained_model")
    assert sorted(p.name for p in (tmp_path / "pretrained_model").iterdir()) == ["config.json", "model.safetensors"]
    reloaded = make_policy_from_pretrained(tmp_path)
    obs = observation(with_image=with_image)
    policy.reset(), reloaded.reset()
    for _ in range(5):  # crosses a re-planning boundary (n_action_steps 3 / 4)
        torch.manual_seed(7)
        a = policy.select_action(obs)
        torch.manual_seed(7)
        b = reloaded.select_action(obs)
        assert a.shape == (2, 2)
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_act_ignores_padded_action_steps():
    torch.manual_seed(0)
    policy = make_policy("act", fake_meta(False), **TINY["act"]).eval()
    batch = fake_batch(policy)
    changed = dict(batch, action=batch["action"].clone())
    changed["action"][:, -2:] = 1e4  # garbage where action_is_pad is true
    # Padded steps are masked in the L1 loss and in the VAE encoder's attention.
    torch.manual_seed(3)
    loss_a, _ = policy(batch)
    torch.manual_seed(3)
    loss_b, _ = policy(changed)
    torch.testing.assert_close(loss_a, loss_b)


def test_diffusion_ignores_fully_padded_samples_in_the_loss():
    torch.manual_seed(0)
    policy = make_policy("diffusion", fake_meta(False), **TINY["diffusion"]).eval()
    batch = fake_batch(policy)
    batch["action_is_pad"][0] = True
    changed = dict(batch, action=batch["action"].clone())
    changed["action"][0] = 1e4
    # The U-Net convolves over time, so padded steps do shape neighbouring predictions (the dataset
    # pads with the edge action for that reason); what the mask guarantees is that padded targets
    # add nothing to the loss.
    torch.manual_seed(3)
    loss_a, _ = policy(batch)
    torch.manual_seed(3)
    loss_b, _ = policy(changed)
    torch.testing.assert_close(loss_a, loss_b)


def test_delta_timestamps_match_the_papers_windows():
    act = make_policy("act", fake_meta(True), **TINY["act"])
    assert act.delta_timestamps(10) == {"action": pytest.approx([i / 10 for i in range(6)])}
    diff = make_policy("diffusion", fake_meta(True), **TINY["diffusion"])
    windows = diff.delta_timestamps(10)
    assert windows["observation.state"] == pytest.approx([-0.1, 0.0])
    assert windows["observation.images.top"] == pytest.approx([-0.1, 0.0])
    assert windows["action"] == pytest.approx([i / 10 for i in range(-1, 7)])  # horizon 8, from t-1


def test_diffusion_replans_every_n_action_steps():
    torch.manual_seed(0)
    policy = make_policy("diffusion", fake_meta(False), **TINY["diffusion"]).eval()
    calls = []
    original = policy.generate_actions
    policy.generate_actions = lambda obs: calls.append(obs["observation.state"].shape) or original(obs)
    policy.reset()
    for _ in range(9):
        policy.select_action(observation(with_image=False))
    assert calls == [torch.Size([2, 2, 2])] * 3  # steps 0, 4, 8; history of n_obs_steps=2


def test_ddim_with_an_exact_noise_oracle_recovers_the_clean_actions():
    policy = make_policy("diffusion", fake_meta(False), **TINY["diffusion"])
    sched = policy.noise
    x0 = torch.rand(3, 8, 2) * 2 - 1
    x = torch.randn(3, 8, 2)
    steps = sched.inference_timesteps()
    assert steps == [80, 60, 40, 20, 0]
    for i, t in enumerate(steps):
        abar = sched.alphas_cumprod[t]
        eps = (x - abar.sqrt() * x0) / (1 - abar).sqrt()  # the noise that explains x exactly
        x = sched.ddim_step(eps, t, steps[i + 1] if i + 1 < len(steps) else -1, x)
    torch.testing.assert_close(x, x0, atol=1e-5, rtol=0)
    abar = sched.alphas_cumprod
    assert (abar[1:] < abar[:-1]).all() and abar[-1] < 1e-3 and abar[0] > 0.99


def test_act_temporal_ensembling_is_the_weighted_mean_of_all_predictions_for_a_step():
    coeff, k = 0.5, 4
    policy = make_policy(
        "act",
        fake_meta(False),
        **{**TINY["act"], "chunk_size": k, "n_action_steps": 1, "temporal_ensemble_coeff": coeff},
    ).eval()
    chunks = [torch.randn(1, k, 2) for _ in range(6)]
    policy.normalizer.unnormalize = lambda key, x: x
    it = iter(chunks)
    policy.predict_chunk = lambda batch, z, queries=None: next(it)
    policy.reset()
    obs = observation(b=1, with_image=False)
    for t in range(6):
        got = policy.select_action(obs)
        # chunk j (made at step j) predicts step t at index t - j; oldest prediction gets weight exp(0).
        preds = [chunks[j][0, t - j] for j in range(max(0, t - k + 1), t + 1)]
        w = torch.exp(-coeff * torch.arange(len(preds), dtype=torch.float32))
        expected = (torch.stack(preds) * w[:, None]).sum(0) / w.sum()
        torch.testing.assert_close(got[0], expected)


def test_normalizer_min_max_maps_range_to_minus_one_one_and_round_trips():
    stats = {"a": {"min": np.array([0.0, 10.0]), "max": np.array([2.0, 30.0])}}
    norm = Normalizer({"a": (2,)}, {"a": "min_max"}, stats)
    x = torch.tensor([[0.0, 10.0], [2.0, 30.0], [1.0, 20.0]])
    torch.testing.assert_close(norm.normalize("a", x), torch.tensor([[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0]]))
    torch.testing.assert_close(norm.unnormalize("a", norm.normalize("a", x)), x)
    assert set(norm.state_dict()) == {"a__min", "a__max"}


def test_normalizer_without_stats_raises_a_clear_error():
    norm = Normalizer({"a": (2,)}, {"a": "mean_std"}, None)
    with pytest.raises(NormalizationError, match="from_pretrained"):
        norm.normalize("a", torch.zeros(2))
    with pytest.raises(NormalizationError, match="'std'"):
        Normalizer({"a": (2,)}, {"a": "mean_std"}, {"a": {"mean": [0, 0]}})


def test_resnet_loads_torchvision_named_safetensors_into_groupnorm_variant(tmp_path):
    from safetensors.torch import save_file

    torch.manual_seed(0)
    source = ResNet18(norm="batch")
    weights = dict(source.state_dict())
    weights["fc.weight"], weights["fc.bias"] = torch.zeros(1000, 512), torch.zeros(1000)
    save_file(weights, str(tmp_path / "r18.safetensors"))
    target = ResNet18(norm="group")
    target.load_pretrained(tmp_path / "r18.safetensors")
    torch.testing.assert_close(target.layer3[1].conv2.weight, source.layer3[1].conv2.weight)
    torch.testing.assert_close(target.bn1.weight, source.bn1.weight)
    assert target(torch.rand(1, 3, 96, 96)).shape == (1, 512, 3, 3)
    weights["layer1.0.conv1.weight"] = torch.zeros(64, 64, 1, 1)
    save_file(weights, str(tmp_path / "bad.safetensors"))
    with pytest.raises(ResNetWeightsError, match="layer1.0.conv1.weight"):
        target.load_pretrained(tmp_path / "bad.safetensors")


def test_config_errors_name_the_flag():
    with pytest.raises(
        ConfigError, match=r"--policy.chunk_sz is not an option of policy type 'act'; did you mean 'chunk_size'"
    ):
        make_policy("act", fake_meta(False), chunk_sz=3)
    with pytest.raises(PolicyConfigError, match="horizon"):
        make_policy("diffusion", fake_meta(False), horizon=10, down_dims=(16, 32, 64))
    with pytest.raises(PolicyConfigError, match="observation.images.top"):
        make_policy("act", fake_meta(False), input_features=["observation.images.top"])
    with pytest.raises(UnknownTypeError, match="unknown policy type 'diffusio'.*did you mean 'diffusion'"):
        make_policy("diffusio", fake_meta(False))


def test_default_inputs_are_cameras_and_state_or_scene_state_without_cameras():
    from robotlearn.policies.policy import features_from_dataset

    vec = lambda n: {"dtype": "float32", "shape": [n], "names": None}
    base = {
        "observation.state": vec(2),
        "observation.environment_state": vec(5),
        "observation.capture_time": vec(1),
        "action": vec(2),
    }
    cam = {"observation.images.top": {"dtype": "video", "shape": [96, 96, 3], "names": ["height", "width", "channels"]}}
    assert list(features_from_dataset(base)) == ["observation.state", "observation.environment_state", "action"]
    with_cam = features_from_dataset({**base, **cam})
    assert list(with_cam) == ["observation.images.top", "observation.state", "action"]
    assert with_cam["observation.images.top"] == {"type": "VISUAL", "shape": [3, 96, 96]}
    chosen = features_from_dataset({**base, **cam}, ["observation.environment_state"])
    assert list(chosen) == ["observation.environment_state", "action"]


def test_diffusion_rejects_images_too_small_for_spatial_softmax():
    with pytest.raises(PolicyConfigError, match="1x1"):
        make_policy("diffusion", fake_meta(True), **{**TINY["diffusion"], "crop_shape": (28, 28)})


def test_narrow_resnet_keeps_the_layers_and_both_policies_train_with_it(tmp_path):
    from safetensors.torch import save_file

    narrow, full = ResNet18(norm="group", width=16), ResNet18(norm="group")
    assert narrow(torch.rand(2, 3, 96, 96)).shape == (2, 128, 3, 3)
    conv_names = lambda net: [n for n, m in net.named_modules() if isinstance(m, torch.nn.Conv2d)]
    assert conv_names(narrow) == conv_names(full)  # same 18-layer structure (+ the shortcut convs)
    assert sum(p.numel() for p in narrow.parameters()) < sum(p.numel() for p in full.parameters()) / 12
    save_file(dict(full.state_dict()), str(tmp_path / "r18.safetensors"))
    with pytest.raises(ResNetWeightsError, match="conv1.weight"):  # pretrained weights need width 64
        narrow.load_pretrained(tmp_path / "r18.safetensors")
    with pytest.raises(ValueError, match="multiple of 16"):
        ResNet18(width=24)
    for policy_type in ("act", "diffusion"):
        torch.manual_seed(0)
        policy = make_policy(policy_type, fake_meta(True), backbone_width=16, **TINY[policy_type])
        assert policy.config.backbone_width == 16
        loss, _ = policy(fake_batch(policy))
        loss.backward()
        policy.save_pretrained(tmp_path / policy_type)
        again = make_policy_from_pretrained(tmp_path / policy_type)
        policy.eval().reset(), again.eval().reset()
        torch.manual_seed(1)
        a = policy.select_action(observation())
        torch.manual_seed(1)
        torch.testing.assert_close(again.select_action(observation()), a)
