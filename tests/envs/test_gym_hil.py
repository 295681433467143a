"""gym-hil's PandaPickCube (Base variant) headless behind the wrapper: a SAC policy built from its
dataset_meta acts in it from both cameras, and a transition of it trains."""

import numpy as np
import torch

from robotlearn.envs import make_env
from robotlearn.policies.factory import make_policy_from_config
from robotlearn.policies.sac.config import SACConfig


def test_pick_cube_runs_headless_and_sac_acts_and_learns_from_its_cameras():
    env = make_env("gym_hil", task="PandaPickCubeBase-v0", max_steps=5)
    obs, _ = env.reset(seed=0)
    assert obs["observation.images.front"].shape == obs["observation.images.wrist"].shape == (128, 128, 3)
    assert obs["observation.state"].shape == (18,)
    torch.manual_seed(0)
    policy = make_policy_from_config(SACConfig(encoder_channels=8, hidden_dims=[16], latent_dim=8), env.dataset_meta())

    def batch_of(o):
        return {
            k: torch.from_numpy(np.ascontiguousarray(np.moveaxis(v, -1, 0) if v.ndim == 3 else v))[None]
            for k, v in o.items()
        }

    action = policy.sample_action(batch_of(obs))[0].numpy()
    assert action.shape == (7,) and np.all(np.abs(action) <= 1.0 + 1e-6)
    next_obs, reward, terminated, truncated, info = env.step(action)
    assert isinstance(info["is_success"], bool)
    now, nxt = batch_of(obs), batch_of(next_obs)
    transition = {k: torch.stack([now[k][0], nxt[k][0]])[None] for k in now}
    transition.update(
        action=torch.from_numpy(action)[None],
        **{"next.reward": torch.tensor([reward]), "next.done": torch.tensor([terminated])},
    )
    policy.train()
    loss, info = policy(transition)
    loss.backward()
    assert np.isfinite(info["critic_loss"])
    assert policy.critic.encoder.cameras["observation_images_front"].convs[0].weight.grad.abs().sum() > 0
    env.close()
