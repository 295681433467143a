"""ACT and Diffusion golden outputs: tiny configs, weights from a fixed seed, fixed inputs.

For each case the stored safetensors (tests/fixtures/golden/policy_<case>.safetensors) hold:
- param_sums: the sum of each parameter and buffer of the freshly built policy (names in sorted
  order, listed in the file's metadata): tells a changed initialisation apart from a changed forward;
- loss_0..: the training loss of N_TRAIN_STEPS Adam steps on one fixed batch, torch seeded before
  each step (the policies draw noise, timesteps, crops and the CVAE's z);
- chunk: the normalized action chunk (ACT's predict_chunk with z = 0, Diffusion's generate_actions
  under a fixed seed) of the trained policy for fixed observations;
- actions: N_CALLS select_action calls after reset() (crossing re-planning boundaries).
"""

from __future__ import annotations

from pathlib import Path

import torch
from tests.policies.fakes import IMG
from tests.policies.fakes import fake_meta as tiny_meta

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "golden"

N_TRAIN_STEPS, N_CALLS, BATCH = 3, 5, 3
TINY_ACT = dict(
    dim_model=32,
    n_heads=2,
    dim_feedforward=64,
    n_encoder_layers=1,
    n_vae_encoder_layers=1,
    latent_dim=4,
    chunk_size=6,
    n_action_steps=3,
    dropout=0.0,
    backbone_width=16,
)
TINY_DIFFUSION = dict(
    down_dims=(16, 32),
    diffusion_step_embed_dim=16,
    horizon=8,
    n_action_steps=4,
    crop_shape=(44, 44),
    spatial_softmax_num_keypoints=4,
    num_inference_steps=5,
    backbone_width=16,
)
# case name -> (policy type, with a camera, config overrides)
CASES = {
    "act_state": ("act", False, TINY_ACT),
    "act_image": ("act", True, TINY_ACT),
    "act_no_vae_ensemble": (
        "act",
        False,
        {**TINY_ACT, "use_vae": False, "n_action_steps": 1, "temporal_ensemble_coeff": 0.01},
    ),
    "diffusion_state": ("diffusion", False, TINY_DIFFUSION),
    "diffusion_image": ("diffusion", True, TINY_DIFFUSION),
}


def fixed_batch(policy, seed: int = 0) -> dict[str, torch.Tensor]:
    """A training batch shaped like the DataLoader's for the policy's delta_timestamps (last 2 actions padded)."""
    g = torch.Generator().manual_seed(seed)
    windows = policy.delta_timestamps(10)
    batch = {}
    for key in sorted(policy.config.features):
        ft = policy.config.features[key]
        t = len(windows[key]) if key in windows else None
        shape = ([BATCH] if t is None else [BATCH, t]) + list(ft["shape"])
        if ft["type"] == "VISUAL":
            batch[key] = torch.randint(0, 256, shape, generator=g, dtype=torch.uint8)
        else:
            batch[key] = 100 + 300 * torch.rand(shape, generator=g)
        if t is not None:
            batch[f"{key}_is_pad"] = torch.zeros(BATCH, t, dtype=torch.bool)
    batch["action_is_pad"][:, -2:] = True
    return batch


def fixed_observations(with_image: bool) -> dict[str, torch.Tensor]:
    """(N_CALLS, BATCH, ...) observations: states in pixels, images float in [0, 1]."""
    g = torch.Generator().manual_seed(1)
    obs = {"observation.state": 100 + 300 * torch.rand(N_CALLS, BATCH, 2, generator=g)}
    if with_image:
        obs["observation.images.top"] = torch.rand(N_CALLS, BATCH, 3, IMG, IMG, generator=g)
    return obs


def compute(case: str) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Runs the case at the current code: (tensors to compare, sorted parameter names)."""
    from robotlearn.policies import make_policy

    policy_type, with_image, overrides = CASES[case]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        policy = make_policy(policy_type, tiny_meta(with_image), **overrides)
        state = policy.state_dict()
        names = sorted(state)
        out = {"param_sums": torch.tensor([state[n].double().sum().item() for n in names], dtype=torch.float64)}
        batch = fixed_batch(policy)
        opt = torch.optim.Adam(policy.parameters(), lr=1e-3)
        policy.train()
        for step in range(N_TRAIN_STEPS):
            torch.manual_seed(100 + step)
            loss, _ = policy(batch)
            out[f"loss_{step}"] = loss.detach().reshape(1)
            opt.zero_grad()
            loss.backward()
            opt.step()
        policy.eval()
        observations = fixed_observations(with_image)
        with torch.no_grad():
            first = policy.prepare_batch({k: v[0] for k, v in observations.items()})
            torch.manual_seed(5)
            if policy_type == "act":
                out["chunk"] = policy.predict_chunk(first, torch.zeros(BATCH, policy.config.latent_dim))
            else:  # Diffusion conditions on n_obs_steps frames: repeat the first, as select_action does
                history = {k: torch.stack([v] * policy.config.n_obs_steps, dim=1) for k, v in first.items()}
                out["chunk"] = policy.generate_actions(history)
        policy.reset()
        torch.manual_seed(7)
        out["actions"] = torch.stack(
            [policy.select_action({k: v[t] for k, v in observations.items()}) for t in range(N_CALLS)]
        )
    finally:
        torch.set_num_threads(threads)
    return {k: v.detach().contiguous() for k, v in out.items()}, names


def golden_path(case: str) -> Path:
    return GOLDEN_DIR / f"policy_{case}.safetensors"


def regenerate(case: str) -> None:
    from safetensors.torch import save_file

    tensors, names = compute(case)
    GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(golden_path(case)), metadata={"param_names": ",".join(names)})
