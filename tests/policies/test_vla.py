"""The VLA policy and its parts: the flow-matching sampler, the instruction tokenizer, learning from
instructions, saving and loading."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch import nn

from robotlearn.policies import flow_matching, make_policy, make_policy_from_pretrained
from robotlearn.policies.observation import observation_to_batch

pytest.importorskip("tokenizers")

from robotlearn.policies.vla.tokenizer import UNK_ID, InstructionTokenizer

IMG = 32
INSTRUCTIONS = [
    "push the red block to the top left corner",
    "push the blue block to the bottom right corner",
    "move the green block to the top right corner",
    "move the red block to the bottom left corner",
]
TINY_VLA = dict(
    dim_model=32,
    n_heads=2,
    n_backbone_layers=2,
    ff_mult=2,
    vision_channels=8,
    n_vision_layers=1,
    image_tokens_per_side=2,
    chunk_size=4,
    n_action_steps=4,
    max_instruction_tokens=10,
    vocab_size=64,
    max_state_dim=8,
    max_action_dim=4,
    num_inference_steps=5,
    instructions=INSTRUCTIONS,
)


@pytest.fixture(autouse=True)
def one_thread():
    # The tiny models run faster on one thread than contending for a loaded machine's cores.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def toy_meta(state_dim: int = 2, action_dim: int = 2, with_image: bool = True) -> SimpleNamespace:
    """Dataset meta of a toy robot: normalized (mean 0, std 1) state and action, one 32x32 camera."""
    features = {
        "observation.state": {"dtype": "float32", "shape": [state_dim], "names": None},
        "action": {"dtype": "float32", "shape": [action_dim], "names": None},
    }
    stats = {
        "observation.state": {"mean": np.zeros(state_dim), "std": np.ones(state_dim)},
        "action": {"mean": np.zeros(action_dim), "std": np.ones(action_dim)},
    }
    if with_image:
        features["observation.images.top"] = {"dtype": "video", "shape": [IMG, IMG, 3], "names": None}
        stats["observation.images.top"] = {"mean": np.full((3, 1, 1), 0.5), "std": np.full((3, 1, 1), 0.25)}
    return SimpleNamespace(features=features, stats=stats, fps=10, tasks=INSTRUCTIONS)


def toy_batch(targets: torch.Tensor, tasks: list[str], seed: int = 0) -> dict:
    """One training batch: random images and states, the chunk of sample i constant at targets[i]."""
    g = torch.Generator().manual_seed(seed)
    b, chunk = len(tasks), TINY_VLA["chunk_size"]
    return {
        "observation.images.top": torch.rand(b, 3, IMG, IMG, generator=g),
        "observation.state": torch.randn(b, 2, generator=g),
        "action": targets[:, None, :].expand(b, chunk, -1).clone(),
        "action_is_pad": torch.zeros(b, chunk, dtype=torch.bool),
        "task": tasks,
    }


def train(policy, batch: dict, steps: int, lr: float = 3e-3) -> list[float]:
    opt = torch.optim.AdamW(policy.parameters(), lr=lr)
    policy.train()
    losses = []
    for step in range(steps):
        torch.manual_seed(step)
        loss, info = policy(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(info["loss"])
    policy.eval()
    return losses


# -- flow matching ---------------------------------------------------------------------------------


def test_training_times_follow_the_scaled_beta_distribution():
    t = flow_matching.sample_time(20_000, torch.Generator().manual_seed(0))
    assert 0.001 <= t.min() and t.max() <= 1.0
    # Beta(1.5, 1) has mean 0.6 and P(x < 0.5) = 0.5 ** 1.5 = 0.354.
    assert t.mean().item() == pytest.approx(0.999 * 0.6 + 0.001, abs=0.01)
    assert (t < 0.999 * 0.5 + 0.001).float().mean().item() == pytest.approx(0.354, abs=0.01)


def test_euler_sampler_with_the_exact_velocity_lands_on_the_target():
    target = torch.tensor([[1.5, -2.0]])

    def exact_velocity(x_t, t):  # x_t = t * noise + (1 - t) * target  =>  v = (x_t - target) / t
        return (x_t - target) / t[:, None]

    x = flow_matching.euler_sample(exact_velocity, (5, 2), torch.Generator().manual_seed(0), n_steps=10)
    assert torch.allclose(x, target.expand(5, 2), atol=1e-5)


def test_sampler_turns_noise_into_a_two_mode_target_after_fitting():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 64), nn.SiLU(), nn.Linear(64, 64), nn.SiLU(), nn.Linear(64, 1))

    def velocity(x_t, t):
        return net(torch.cat([x_t, t[:, None]], dim=-1))

    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    for _ in range(200):
        actions = torch.randint(0, 2, (128, 1), generator=g).float() * 4 - 2  # -2 or +2, equally often
        loss = flow_matching.flow_matching_loss(velocity, actions, g).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        x = flow_matching.euler_sample(velocity, (2000, 1), torch.Generator().manual_seed(1), n_steps=10)
    near_a_mode = ((x - 2).abs() < 0.5) | ((x + 2).abs() < 0.5)
    assert near_a_mode.float().mean() > 0.85  # noise N(0, 1) has only 6% of its mass there
    assert 0.4 < (x > 0).float().mean() < 0.6  # both modes, not an average between them


# -- tokenizer ----------------------------------------------------------------------------------------


def test_tokenizer_round_trip_and_unknown_words(tmp_path):
    tok = InstructionTokenizer.train(INSTRUCTIONS, vocab_size=64)
    for text in INSTRUCTIONS:
        assert tok.decode(tok.encode(text)) == text
    ids = tok.encode("Shove the RED cube")
    assert ids[0] == UNK_ID and ids[3] == UNK_ID  # unseen words; case is folded
    assert tok.decode(ids) == "[UNK] the red [UNK]"
    loaded = InstructionTokenizer.load(tok.save(tmp_path / "tokenizer.json"))
    assert loaded.encode(INSTRUCTIONS[1]) == tok.encode(INSTRUCTIONS[1])
    ids, real = tok.encode_batch(["push the red block", ""], max_length=6)
    assert ids.shape == (2, 6) and real.tolist() == [[True] * 4 + [False] * 2, [False] * 6]


# -- the policy ---------------------------------------------------------------------------------------


def test_policies_of_different_robots_share_one_parameter_layout():
    small = make_policy("vla", toy_meta(state_dim=2, action_dim=2), **TINY_VLA)
    large = make_policy("vla", toy_meta(state_dim=7, action_dim=4), **TINY_VLA)

    def model_weights(policy):  # everything but the per-dataset normalization statistics
        return {k: v for k, v in policy.state_dict().items() if not k.startswith("normalizer.")}

    assert {k: v.shape for k, v in model_weights(small).items()} == {
        k: v.shape for k, v in model_weights(large).items()
    }
    # State and action are padded to max_state_dim / max_action_dim: one robot's weights load into the other's.
    large.load_state_dict({**large.state_dict(), **model_weights(small)})


@pytest.mark.parametrize("head", ["flow", "l1"])
def test_vla_overfits_one_multi_task_batch(head):
    torch.manual_seed(0)
    policy = make_policy("vla", toy_meta(), **{**TINY_VLA, "action_head": head})
    targets = torch.tensor([[1.0, -1.0], [-1.0, 1.0], [0.5, 0.5], [-0.5, -1.5]]).repeat(2, 1)
    losses = train(policy, toy_batch(targets, INSTRUCTIONS * 2), steps=60)
    assert losses[-1] < 0.3 * losses[0], losses[::10]


def test_save_load_gives_identical_actions_for_the_same_noise_seed(tmp_path):
    torch.manual_seed(0)
    policy = make_policy("vla", toy_meta(), **TINY_VLA)
    train(policy, toy_batch(torch.randn(4, 2), INSTRUCTIONS), steps=3)
    path = policy.save_pretrained(tmp_path / "pretrained_model")
    assert {p.name for p in path.iterdir()} == {"config.json", "model.safetensors", "tokenizer.json"}
    loaded = make_policy_from_pretrained(path)
    obs = {k: v for k, v in toy_batch(torch.zeros(4, 2), INSTRUCTIONS, seed=7).items() if not k.startswith("action")}
    before = policy.predict_action_chunk(obs, generator=torch.Generator().manual_seed(3))
    after = loaded.predict_action_chunk(obs, generator=torch.Generator().manual_seed(3))
    assert before.shape == (4, TINY_VLA["chunk_size"], 2)
    assert torch.equal(before, after)
    other_seed = loaded.predict_action_chunk(obs, generator=torch.Generator().manual_seed(4))
    assert not torch.equal(before, other_seed)  # the chunk does come from the noise


def test_the_instruction_alone_changes_the_action_after_training_on_two_tasks():
    torch.manual_seed(0)
    policy = make_policy("vla", toy_meta(), **TINY_VLA)
    go_left, go_right = INSTRUCTIONS[0], INSTRUCTIONS[1]
    # Same observations for both tasks: only the instruction says whether the target is -1 or +1.
    batch = toy_batch(torch.zeros(8, 2), [go_left] * 4 + [go_right] * 4)
    for key in ("observation.images.top", "observation.state"):
        batch[key][4:] = batch[key][:4]
    batch["action"][:4], batch["action"][4:] = -1.0, 1.0
    train(policy, batch, steps=150)
    # One observation as the evaluation loop gives it, once with each instruction.
    observation = {
        "observation.images.top": (batch["observation.images.top"][0].permute(1, 2, 0).numpy() * 255).astype(np.uint8),
        "observation.state": batch["observation.state"][0].numpy(),
    }
    actions = {}
    for task in (go_left, go_right):
        policy.reset()
        torch.manual_seed(0)
        actions[task] = policy.select_action(observation_to_batch(observation, policy.config.features, task=task))
    assert actions[go_left].shape == (1, 2)
    assert actions[go_left].mean() < -0.6 and actions[go_right].mean() > 0.6, actions


def test_keeping_the_first_backbone_layers_loads_a_deeper_checkpoint():
    full = make_policy("vla", toy_meta(), **TINY_VLA)
    cut = make_policy("vla", toy_meta(), **{**TINY_VLA, "n_backbone_layers_kept": 1})
    assert len(full.backbone) == len(full.expert) == 2 and len(cut.backbone) == len(cut.expert) == 1
    cut.load_state_dict(full.state_dict())  # layers past the first are dropped
    assert torch.equal(cut.backbone[0].ff[0].weight, full.backbone[0].ff[0].weight)
