"""Soft Actor-Critic as a robotlearn Policy: an encoder, a tanh-Gaussian actor, twin critics with
target copies, and a learned temperature, all trained by one `forward(batch)`.

A batch is a set of transitions, the shape a LeRobotDataset gives for `delta_timestamps` (each
observation at t and t + 1/fps) and `robotlearn.rl.ReplayBuffer.sample` gives too:

    observation keys (B, 2, ...)    [:, 0] the state s, [:, 1] the next state s' (images uint8 or float)
    "<key>_is_pad" (B, 2)           optional: s' past the episode's end (no bootstrap: left out unless done)
    "action" (B, A)                 the action executed in s (unnormalized, in the action bounds)
    "next.reward" (B,)              r
    "next.done" (B,)                1 when s' is terminal (a time limit is not terminal)

`forward` returns the sum of three losses whose gradients touch disjoint parameters, so one
optimizer step (with `param_groups()`' learning rates) is exactly SAC's three updates:

    critic       sum_i (Q_i(s, a) - y)^2,  y = r + gamma (1 - done) (min_i Q'_i(s', a') - alpha log pi(a'|s')), a' ~ pi(s')
    actor        alpha log pi(a~|s) - min_i Q_i(s, a~),  a~ ~ pi(s)  (critics and encoder frozen for this term)
    temperature  -log(alpha) (log pi(a~|s) + target_entropy)          (log pi frozen)

The image encoder learns through the critic only (SAC-AE/DrQ): the actor sees its output detached.
Cameras get DrQ's random shift (pad 4, random crop back) during training, s and s' independently.
After each optimizer step call `update_target()` (Polyak averaging of the critics and encoder).
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from robotlearn.policies.policy import ACTION_KEY, Policy
from robotlearn.policies.sac.config import SACConfig

REWARD_KEY, DONE_KEY = "next.reward", "next.done"


def random_shift(images: torch.Tensor, pad: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """DrQ augmentation: (B, C, H, W) -> the same shape, each image padded by `pad` pixels (edge
    replicated) and cropped back at its own random integer offset."""
    if pad <= 0:
        return images
    b, _, h, w = images.shape
    padded = F.pad(images, (pad, pad, pad, pad), mode="replicate")
    offsets = torch.randint(0, 2 * pad + 1, (b, 2), generator=generator, device="cpu").to(images.device)
    rows = offsets[:, 0:1] + torch.arange(h, device=images.device)  # (B, H)
    cols = offsets[:, 1:2] + torch.arange(w, device=images.device)  # (B, W)
    batch = torch.arange(b, device=images.device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def mlp(in_dim: int, hidden: list[int], out_dim: int) -> nn.Sequential:
    layers, d = [], in_dim
    for h in hidden:
        layers += [nn.Linear(d, h), nn.ReLU()]
        d = h
    layers.append(nn.Linear(d, out_dim))
    return nn.Sequential(*layers)


class ImageEncoder(nn.Module):
    """One camera (B, C, H, W) in [0, 1] -> (B, latent_dim): 4 convolutions of 3x3 (the first with
    stride 2), a linear layer, LayerNorm and tanh (the SAC-AE / DrQ encoder)."""

    def __init__(self, shape: list[int], channels: int, latent_dim: int):
        super().__init__()
        c, h, w = shape
        self.convs = nn.Sequential(
            nn.Conv2d(c, channels, 3, stride=2),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3),
            nn.ReLU(),
            nn.Conv2d(channels, channels, 3),
            nn.ReLU(),
        )
        with torch.no_grad():
            n = self.convs(torch.zeros(1, c, h, w)).numel()
        self.head = nn.Sequential(nn.Linear(n, latent_dim), nn.LayerNorm(latent_dim), nn.Tanh())

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.convs(images - 0.5).flatten(1))


class ObservationEncoder(nn.Module):
    """Normalized observation dict -> one feature vector. Without cameras it is the concatenated
    state (no parameters); with cameras, each camera's ImageEncoder output plus a projection of the
    state (Linear + LayerNorm + tanh)."""

    def __init__(self, config: SACConfig):
        super().__init__()
        self.image_keys, self.state_keys = config.image_keys, config.state_keys
        state_dim = sum(config.features[k]["shape"][0] for k in self.state_keys)
        self.cameras = nn.ModuleDict(
            {
                k.replace(".", "_"): ImageEncoder(
                    config.features[k]["shape"], config.encoder_channels, config.latent_dim
                )
                for k in self.image_keys
            }
        )
        self.state_proj = None
        if self.image_keys and state_dim:
            self.state_proj = nn.Sequential(
                nn.Linear(state_dim, config.state_hidden), nn.LayerNorm(config.state_hidden), nn.Tanh()
            )
        self.out_dim = len(self.image_keys) * config.latent_dim + (
            config.state_hidden if self.state_proj is not None else state_dim
        )

    def forward(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        parts = [self.cameras[k.replace(".", "_")](obs[k]) for k in self.image_keys]
        if self.state_keys:
            state = torch.cat([obs[k] for k in self.state_keys], dim=-1)
            parts.append(self.state_proj(state) if self.state_proj is not None else state)
        return torch.cat(parts, dim=-1)


class Critics(nn.Module):
    """The encoder and `n_critics` Q-networks: (obs, normalized action) -> (n_critics, B)."""

    def __init__(self, config: SACConfig):
        super().__init__()
        self.encoder = ObservationEncoder(config)
        self.qs = nn.ModuleList(
            mlp(self.encoder.out_dim + config.action_dim, config.hidden_dims, 1) for _ in range(config.n_critics)
        )

    def forward(self, features: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """Encoded features (B, F) and normalized action (B, A) -> (n_critics, B)."""
        x = torch.cat([features, action], dim=-1)
        return torch.stack([q(x).squeeze(-1) for q in self.qs])


class Actor(nn.Module):
    """features -> a tanh-squashed diagonal Gaussian over normalized actions in [-1, 1]."""

    def __init__(self, in_dim: int, config: SACConfig):
        super().__init__()
        self.net = mlp(in_dim, config.hidden_dims, 2 * config.action_dim)
        self.log_std_min, self.log_std_max = config.log_std_min, config.log_std_max

    def forward(self, features: torch.Tensor, generator: torch.Generator | None = None):
        """-> (sampled action, its log-probability (B,), deterministic action tanh(mean))."""
        mean, log_std = self.net(features).chunk(2, dim=-1)
        # squash log_std smoothly into [min, max] (SAC-AE), instead of a hard clamp that kills gradients
        log_std = self.log_std_min + 0.5 * (self.log_std_max - self.log_std_min) * (torch.tanh(log_std) + 1)
        std = log_std.exp()
        noise = torch.randn(mean.shape, generator=generator, device="cpu").to(mean.device)
        pre_tanh = mean + std * noise
        action = torch.tanh(pre_tanh)
        gaussian_log_prob = (-0.5 * noise.pow(2) - log_std - 0.5 * math.log(2 * math.pi)).sum(-1)
        # change of variables through tanh: log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), stable
        log_prob = gaussian_log_prob - (2 * (math.log(2) - pre_tanh - F.softplus(-2 * pre_tanh))).sum(-1)
        return action, log_prob, torch.tanh(mean)


class SACPolicy(Policy):
    """SAC for continuous actions; see the module docstring for the batch and the losses."""

    config_class = SACConfig
    name = "sac"

    def __init__(self, config: SACConfig, stats: dict | None = None):
        super().__init__(config, stats)
        self.critic = Critics(config)
        self.critic_target = copy.deepcopy(self.critic).requires_grad_(False)
        self.actor = Actor(self.critic.encoder.out_dim, config)
        self.log_alpha = nn.Parameter(torch.tensor(math.log(config.init_temperature)))
        self.target_entropy = config.target_entropy if config.target_entropy is not None else -float(config.action_dim)
        self.generator: torch.Generator | None = None  # set for reproducible noise (tests, the learner)

    # --- interface ---------------------------------------------------------------------------
    extra_batch_keys = {REWARD_KEY: [], DONE_KEY: []}

    def delta_timestamps(self, fps: int) -> dict[str, list[float]]:
        """Each observation now and one step later (the transition's s and s')."""
        return {k: [0.0, 1.0 / fps] for k in self.config.features if k != ACTION_KEY}

    def reset(self) -> None:
        pass  # no queue, no history

    @property
    def alpha(self) -> torch.Tensor:
        return self.log_alpha.exp()

    def param_groups(self) -> list[dict]:
        """Adam parameter groups with SAC's three learning rates (critics + encoder, actor, alpha)."""
        cfg = self.config
        return [
            {"params": list(self.critic.parameters()), "lr": cfg.critic_lr, "name": "critic"},
            {"params": list(self.actor.parameters()), "lr": cfg.actor_lr, "name": "actor"},
            {"params": [self.log_alpha], "lr": cfg.temperature_lr, "name": "temperature"},
        ]

    def _split(self, batch: dict) -> tuple[dict, dict]:
        """Windowed observations (B, 2, ...) -> normalized s and s' dicts, augmented in training."""
        keys = [k for k in self.config.features if k != ACTION_KEY]
        both = self.prepare_batch({k: batch[k] for k in keys})
        obs, next_obs = {k: both[k][:, 0] for k in keys}, {k: both[k][:, 1] for k in keys}
        if self.training and self.config.augmentation_pad:
            for k in self.config.image_keys:
                obs[k] = random_shift(obs[k], self.config.augmentation_pad, self.generator)
                next_obs[k] = random_shift(next_obs[k], self.config.augmentation_pad, self.generator)
        return obs, next_obs

    def forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
        cfg = self.config
        obs, next_obs = self._split(batch)
        action = self.normalizer.normalize(ACTION_KEY, batch[ACTION_KEY].to(self.device).float())
        reward = batch[REWARD_KEY].to(self.device).float().reshape(-1)
        done = batch[DONE_KEY].to(self.device).float().reshape(-1)
        # a transition whose s' lies past the episode's end teaches nothing unless it is terminal
        weight = torch.ones_like(reward)
        pads = [batch[f"{k}_is_pad"][:, 1] for k in obs if f"{k}_is_pad" in batch]
        if pads:
            weight = (~torch.stack(pads).any(0).to(self.device)).float().maximum(done)
        alpha = self.alpha.detach()

        # critic: TD target from the target networks and a fresh action in s'
        with torch.no_grad():
            next_features = self.critic.encoder(next_obs)
            next_action, next_log_prob, _ = self.actor(next_features, self.generator)
            target_features = self.critic_target.encoder(next_obs)
            next_q = self.critic_target(target_features, next_action).min(dim=0).values
            target = reward + cfg.discount * (1.0 - done) * (next_q - alpha * next_log_prob)
        features = self.critic.encoder(obs)
        q = self.critic(features, action)
        n = weight.sum().clamp(min=1.0)
        critic_loss = ((q - target).pow(2) * weight).sum(dim=1).div(n).sum()

        # actor: through the critics with their weights detached (no gradient into them), on detached features
        features_detached = features.detach()
        new_action, log_prob, _ = self.actor(features_detached, self.generator)
        frozen = {name: p.detach() for name, p in self.critic.named_parameters()}
        q_new = torch.func.functional_call(self.critic, frozen, (features_detached, new_action))
        actor_loss = (alpha * log_prob - q_new.min(dim=0).values).mean()  # every s is a real state

        # temperature: match the policy's entropy to the target
        temperature_loss = -(self.log_alpha * (log_prob.detach() + self.target_entropy)).mean()

        loss = critic_loss + actor_loss + temperature_loss
        info = {
            "loss": loss.item(),
            "critic_loss": critic_loss.item(),
            "actor_loss": actor_loss.item(),
            "temperature_loss": temperature_loss.item(),
            "alpha": alpha.item(),
            "q_mean": q.mean().item(),
            "entropy": -log_prob.mean().item(),
        }
        return loss, info

    @torch.no_grad()
    def update_target(self) -> None:
        """Polyak averaging: target <- tau * online + (1 - tau) * target."""
        for target, online in zip(self.critic_target.parameters(), self.critic.parameters()):
            target.lerp_(online, self.config.tau)

    # --- acting ------------------------------------------------------------------------------
    def _features(self, observation: dict) -> torch.Tensor:
        self.check_observation(observation)
        obs = self.prepare_batch({k: observation[k] for k in self.config.features if k != ACTION_KEY})
        return self.critic.encoder(obs)

    @torch.no_grad()
    def sample_action(self, observation: dict[str, torch.Tensor]) -> torch.Tensor:
        """Exploration: an action drawn from the policy, (B, A), unnormalized."""
        action, _, _ = self.actor(self._features(observation), self.generator)
        return self.normalizer.unnormalize(ACTION_KEY, action)

    @torch.no_grad()
    def predict_action_chunk(self, observation: dict[str, torch.Tensor]) -> torch.Tensor:
        """(B, 1, A): the deterministic action tanh(mean), unnormalized (evaluation)."""
        _, _, mean_action = self.actor(self._features(observation), self.generator)
        return self.normalizer.unnormalize(ACTION_KEY, mean_action)[:, None]

    @torch.no_grad()
    def select_action(self, observation: dict[str, torch.Tensor]) -> torch.Tensor:
        """(B, A): the deterministic action (evaluation); exploration uses `sample_action`."""
        return self.predict_action_chunk(observation)[:, 0]
