"""ACT: Action Chunking with Transformers (Zhao et al. 2023, https://arxiv.org/abs/2304.13705), plain PyTorch.

Reading order:
  1. positional embeddings (1-D for token sequences, 2-D for image feature maps)
  2. transformer layers (DETR style: positions are added to queries and keys at every layer)
  3. ACTPolicy: the CVAE encoder over (state, action chunk) -> latent z; the main encoder over
     (z, state, image tokens); the decoder that turns chunk_size learned queries into actions;
     the L1 + KL loss; `select_action` with an action queue or temporal ensembling.

Shapes: B batch, K = chunk_size, A = action_dim, D = dim_model.
"""

from __future__ import annotations

import math
from collections import deque

import torch
import torch.nn.functional as F
from torch import nn

from robotlearn.policies.act.config import ACTConfig
from robotlearn.policies.per_sample import SampleRandom, per_sample_mean
from robotlearn.policies.policy import ACTION_KEY, ACTION_PREFIX_KEY, Policy, PolicyConfigError
from robotlearn.policies.resnet import ResNet18

# --------------------------------------------------------------------------------------------
# 1. Positional embeddings
# --------------------------------------------------------------------------------------------


def sinusoidal_1d(n: int, dim: int) -> torch.Tensor:
    """(n, dim) fixed sine/cosine positions (Vaswani et al. 2017)."""
    pos = torch.arange(n, dtype=torch.float32)[:, None]
    freqs = torch.exp(-math.log(10000.0) * torch.arange(0, dim, 2, dtype=torch.float32) / dim)
    out = torch.zeros(n, dim)
    out[:, 0::2] = torch.sin(pos * freqs)
    out[:, 1::2] = torch.cos(pos * freqs[: dim // 2])
    return out


def sinusoidal_2d(h: int, w: int, dim: int, device: torch.device) -> torch.Tensor:
    """(h * w, dim) positions for a feature map: half the channels encode the row, half the column."""
    half = dim // 2

    def axis(n: int) -> torch.Tensor:
        coords = torch.arange(1, n + 1, dtype=torch.float32, device=device) / n * 2 * math.pi
        freqs = 10000.0 ** (2 * (torch.arange(half, device=device) // 2) / half)
        angles = coords[:, None] / freqs
        return torch.stack([angles[:, 0::2].sin(), angles[:, 1::2].cos()], dim=-1).flatten(1)  # (n, half)

    rows, cols = axis(h), axis(w)
    return torch.cat([rows[:, None, :].expand(h, w, half), cols[None, :, :].expand(h, w, half)], dim=-1).flatten(0, 1)


# --------------------------------------------------------------------------------------------
# 2. Transformer layers
# --------------------------------------------------------------------------------------------


class FeedForward(nn.Sequential):
    def __init__(self, config: ACTConfig):
        super().__init__(
            nn.Linear(config.dim_model, config.dim_feedforward),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.dim_feedforward, config.dim_model),
        )


class EncoderLayer(nn.Module):
    """Self-attention + feed-forward; `pos` is added to queries and keys, not values."""

    def __init__(self, config: ACTConfig):
        super().__init__()
        self.pre_norm = config.pre_norm
        self.attn = nn.MultiheadAttention(config.dim_model, config.n_heads, dropout=config.dropout, batch_first=True)
        self.ff = FeedForward(config)
        self.norm1, self.norm2 = nn.LayerNorm(config.dim_model), nn.LayerNorm(config.dim_model)
        self.drop1, self.drop2 = nn.Dropout(config.dropout), nn.Dropout(config.dropout)

    def forward(self, x, pos, key_padding_mask=None):
        h = self.norm1(x) if self.pre_norm else x
        x = x + self.drop1(self.attn(h + pos, h + pos, h, key_padding_mask=key_padding_mask, need_weights=False)[0])
        x = x if self.pre_norm else self.norm1(x)
        h = self.norm2(x) if self.pre_norm else x
        x = x + self.drop2(self.ff(h))
        return x if self.pre_norm else self.norm2(x)


class DecoderLayer(nn.Module):
    """Self-attention over the queries, cross-attention to the encoder output, feed-forward."""

    def __init__(self, config: ACTConfig):
        super().__init__()
        self.pre_norm = config.pre_norm
        d = config.dim_model
        self.self_attn = nn.MultiheadAttention(d, config.n_heads, dropout=config.dropout, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(d, config.n_heads, dropout=config.dropout, batch_first=True)
        self.ff = FeedForward(config)
        self.norms = nn.ModuleList([nn.LayerNorm(d) for _ in range(3)])
        self.drops = nn.ModuleList([nn.Dropout(config.dropout) for _ in range(3)])

    def _sublayer(self, i, x, fn):
        h = self.norms[i](x) if self.pre_norm else x
        x = x + self.drops[i](fn(h))
        return x if self.pre_norm else self.norms[i](x)

    def forward(self, x, memory, query_pos, memory_pos):
        x = self._sublayer(0, x, lambda h: self.self_attn(h + query_pos, h + query_pos, h, need_weights=False)[0])
        x = self._sublayer(
            1, x, lambda h: self.cross_attn(h + query_pos, memory + memory_pos, memory, need_weights=False)[0]
        )
        return self._sublayer(2, x, self.ff)


class Encoder(nn.Module):
    def __init__(self, config: ACTConfig, n_layers: int):
        super().__init__()
        self.layers = nn.ModuleList([EncoderLayer(config) for _ in range(n_layers)])
        self.norm = nn.LayerNorm(config.dim_model) if config.pre_norm else nn.Identity()

    def forward(self, x, pos, key_padding_mask=None):
        for layer in self.layers:
            x = layer(x, pos, key_padding_mask)
        return self.norm(x)


class Decoder(nn.Module):
    def __init__(self, config: ACTConfig):
        super().__init__()
        self.layers = nn.ModuleList([DecoderLayer(config) for _ in range(config.n_decoder_layers)])
        self.norm = nn.LayerNorm(config.dim_model)

    def forward(self, x, memory, query_pos, memory_pos):
        for layer in self.layers:
            x = layer(x, memory, query_pos, memory_pos)
        return self.norm(x)


# --------------------------------------------------------------------------------------------
# 3. The policy
# --------------------------------------------------------------------------------------------


class ACTPolicy(Policy):
    """ACT: a CVAE whose decoder is a transformer predicting a chunk of K future actions."""

    config_class = ACTConfig
    name = "act"

    def __init__(self, config: ACTConfig, stats: dict | None = None):
        super().__init__(config, stats)
        d, a = config.dim_model, config.action_dim
        self.state_dim = sum(config.features[k]["shape"][0] for k in config.state_keys)
        if config.use_vae:
            # VAE encoder tokens: [CLS, state?, a_1..a_K] -> (mu, log var) of z.
            self.vae_cls = nn.Parameter(torch.zeros(1, 1, d))
            self.vae_action_proj = nn.Linear(a, d)
            self.vae_state_proj = nn.Linear(self.state_dim, d) if self.state_dim else None
            self.vae_encoder = Encoder(config, config.n_vae_encoder_layers)
            self.vae_latent_proj = nn.Linear(d, 2 * config.latent_dim)
            n_vae_tokens = 1 + (1 if self.state_dim else 0) + config.chunk_size
            self.register_buffer("vae_pos", sinusoidal_1d(n_vae_tokens, d)[None], persistent=False)
        if config.image_keys:
            self.backbone = ResNet18(norm="batch", width=config.backbone_width)
            self.image_proj = nn.Conv2d(self.backbone.out_channels, d, kernel_size=1)
        # Main encoder tokens: [z, state?, image features...].
        self.latent_proj = nn.Linear(config.latent_dim, d)
        self.state_proj = nn.Linear(self.state_dim, d) if self.state_dim else None
        self.token_pos = nn.Embedding(1 + (1 if self.state_dim else 0), d)
        self.encoder = Encoder(config, config.n_encoder_layers)
        self.decoder = Decoder(config)
        self.query_pos = nn.Embedding(config.chunk_size, d)
        if config.max_action_prefix:
            # Given actions enter the decoder as its queries for their steps (zeros elsewhere).
            self.prefix_proj = nn.Linear(a, d)
            self.prefix_flag = nn.Parameter(torch.zeros(1, 1, d))
        self.action_head = nn.Linear(d, a)
        self.reset()

    def delta_timestamps(self, fps: int) -> dict[str, list[float]]:
        return {ACTION_KEY: [i / fps for i in range(self.config.chunk_size)]}

    def reset(self) -> None:
        self._action_queue: deque = deque()
        self._ensemble: torch.Tensor | None = None  # (B, <=K, A) running weighted mean
        self._ensemble_count: torch.Tensor | None = None  # (<=K,) predictions averaged per step

    def _state(self, batch: dict) -> torch.Tensor | None:
        if not self.state_dim:
            return None
        return torch.cat([batch[k] for k in self.config.state_keys], dim=-1)

    def encode_latent(self, state, actions, action_is_pad):
        """CVAE posterior q(z | state, actions): returns (mu, log_var), each (B, latent_dim)."""
        b = actions.shape[0]
        tokens = [self.vae_cls.expand(b, -1, -1)]
        if state is not None:
            tokens.append(self.vae_state_proj(state)[:, None])
        tokens.append(self.vae_action_proj(actions))
        x = torch.cat(tokens, dim=1)
        n_prefix = x.shape[1] - actions.shape[1]
        pad = torch.zeros(b, x.shape[1], dtype=torch.bool, device=x.device)
        if action_is_pad is not None:
            pad[:, n_prefix:] = action_is_pad
        out = self.vae_encoder(x, self.vae_pos, key_padding_mask=pad)[:, 0]
        mu, log_var = self.vae_latent_proj(out).chunk(2, dim=-1)
        return mu, log_var

    def prefix_queries(self, actions: torch.Tensor, prefix_len: torch.Tensor) -> torch.Tensor:
        """Decoder queries (B, K, D): the embedding of normalized `actions` (B, >= max(prefix_len), A)
        at the steps i < prefix_len[b] of each sample b, zeros after them."""
        k = self.config.chunk_size
        given = torch.arange(k, device=actions.device)[None] < prefix_len[:, None]  # (B, K)
        n = min(actions.shape[1], k)
        embedded = self.prefix_proj(actions[:, :n]) + self.prefix_flag
        embedded = F.pad(embedded, (0, 0, 0, k - n))
        return torch.where(given[..., None], embedded, torch.zeros_like(embedded))

    def predict_chunk(self, batch: dict, z: torch.Tensor, queries: torch.Tensor | None = None) -> torch.Tensor:
        """Normalized observations + latent z (B, latent_dim) -> normalized action chunk (B, K, A);
        `queries` (B, K, D): the decoder's inputs (default zeros; see `prefix_queries`)."""
        b = z.shape[0]
        tokens = [self.latent_proj(z)[:, None]]
        state = self._state(batch)
        if state is not None:
            tokens.append(self.state_proj(state)[:, None])
        pos = [self.token_pos.weight[None].expand(b, -1, -1)]
        for key in self.config.image_keys:
            features = self.image_proj(self.backbone(batch[key]))  # (B, D, h, w)
            h, w = features.shape[-2:]
            tokens.append(features.flatten(2).transpose(1, 2))
            pos.append(sinusoidal_2d(h, w, self.config.dim_model, features.device)[None].expand(b, -1, -1))
        tokens, pos = torch.cat(tokens, dim=1), torch.cat(pos, dim=1)
        memory = self.encoder(tokens, pos)
        if queries is None:
            queries = torch.zeros(b, self.config.chunk_size, self.config.dim_model, device=z.device)
        query_pos = self.query_pos.weight[None].expand(b, -1, -1)
        return self.action_head(self.decoder(queries, memory, query_pos, pos))

    def forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
        """L1 reconstruction of the (unpadded) action chunk + kl_weight * KL(q(z|s,a) || N(0, I)).

        z's noise is drawn per sample when the batch carries per-sample seeds (see per_sample.py);
        the L1 term is averaged over each sample's unpadded steps, then over samples. With
        `max_action_prefix`, each sample's first d ~ U{0..max} target actions are given to the
        decoder and left out of the loss (Black et al. 2025, training-time action conditioning)."""
        rng = SampleRandom.from_batch(batch, len(batch[ACTION_KEY]), self.device)
        batch = self.prepare_batch(batch)
        actions = batch[ACTION_KEY]  # (B, K, A)
        pad = batch.get(f"{ACTION_KEY}_is_pad")
        b = actions.shape[0]
        if self.config.use_vae:
            mu, log_var = self.encode_latent(self._state(batch), actions, pad)
            z = mu + rng.normal_like(mu) * (0.5 * log_var).exp()
        else:
            z = torch.zeros(b, self.config.latent_dim, device=actions.device)
        queries, loss_pad = None, pad
        if self.config.max_action_prefix:
            prefix_len = rng.integers(0, self.config.max_action_prefix + 1)
            queries = self.prefix_queries(actions, prefix_len)
            given = torch.arange(actions.shape[1], device=actions.device)[None] < prefix_len[:, None]
            loss_pad = given if pad is None else pad | given
        pred = self.predict_chunk(batch, z, queries)
        l1 = per_sample_mean(F.l1_loss(pred, actions, reduction="none"), loss_pad)
        info = {"l1_loss": l1.item()}
        loss = l1
        if self.config.use_vae:
            kl = (-0.5 * (1 + log_var - mu.pow(2) - log_var.exp())).sum(-1).mean()
            loss = l1 + self.config.kl_weight * kl
            info["kl_loss"] = kl.item()
        info["loss"] = loss.item()
        return loss, info

    @torch.no_grad()
    def predict_action_chunk(self, observation: dict[str, torch.Tensor]) -> torch.Tensor:
        """One observation {key: (B, ...)} -> the decoded chunk (B, chunk_size, A), unnormalized, with
        z = 0 (the prior's mean). Deterministic: the same observation gives the same chunk. With
        observation[ACTION_PREFIX_KEY] (B, d, A) (needs max_action_prefix >= d), the chunk's first d
        actions are those and the rest is planned to continue them."""
        self.check_observation(observation)
        prefix = observation.get(ACTION_PREFIX_KEY)
        if prefix is not None and prefix.shape[1] == 0:
            prefix = None
        if prefix is not None:
            self._check_prefix(prefix)
            observation = {**observation, ACTION_KEY: prefix}  # normalized (and made relative) with the rest
        batch = self.prepare_batch(observation)
        b = batch[next(k for k in self.config.features if k != ACTION_KEY)].shape[0]
        z = torch.zeros(b, self.config.latent_dim, device=self.device)
        queries = None
        if prefix is not None:
            d = prefix.shape[1]
            queries = self.prefix_queries(batch.pop(ACTION_KEY), torch.full((b,), d, device=self.device))
        chunk = self.unnormalize_actions(self.predict_chunk(batch, z, queries), batch)
        if prefix is not None:
            chunk[:, :d] = prefix.to(chunk)  # exactly what the robot executes
        return chunk

    def _check_prefix(self, prefix: torch.Tensor) -> None:
        capacity = self.config.max_action_prefix
        if prefix.ndim != 3 or prefix.shape[2] != self.config.action_dim:
            raise PolicyConfigError(
                f"{ACTION_PREFIX_KEY} must be (batch, steps, {self.config.action_dim}), got {tuple(prefix.shape)}"
            )
        if prefix.shape[1] > capacity:
            raise PolicyConfigError(
                f"{ACTION_PREFIX_KEY} has {prefix.shape[1]} steps; this policy conditions on at most {capacity} "
                "(--policy.max_action_prefix at training)"
            )

    @torch.no_grad()
    def select_action(self, observation: dict[str, torch.Tensor]) -> torch.Tensor:
        """One observation {key: (B, ...)} -> action (B, A): the first n_action_steps actions of
        `predict_action_chunk`, one per call, re-planned when they are used up."""
        self.check_observation(observation)
        if self.config.temporal_ensemble_coeff is not None:
            return self._ensembled_action(observation)
        if not self._action_queue:
            chunk = self.predict_action_chunk(observation)
            self._action_queue.extend(chunk[:, : self.config.n_action_steps].unbind(dim=1))
        return self._action_queue.popleft()

    def _ensembled_action(self, observation: dict) -> torch.Tensor:
        """Temporal ensembling (ACT paper, sec. 3.3): every step predicts a new chunk; the action for
        the current step is the average of all predictions made for it, weighted exp(-coeff * i)
        with i = 0 for the oldest prediction. Kept as a running weighted mean."""
        chunk = self.predict_action_chunk(observation)  # (B, K, A)
        k = self.config.chunk_size
        weights = torch.exp(-self.config.temporal_ensemble_coeff * torch.arange(k, device=chunk.device))
        cum = weights.cumsum(0)
        if self._ensemble is None:
            self._ensemble = chunk.clone()
            self._ensemble_count = torch.ones(k, dtype=torch.long, device=chunk.device)
        else:
            n = self._ensemble_count  # predictions already averaged for steps t .. t+K-2
            old = self._ensemble * cum[n - 1][None, :, None]
            self._ensemble = (old + chunk[:, :-1] * weights[n][None, :, None]) / cum[n][None, :, None]
            self._ensemble_count = (n + 1).clamp(max=k)
            self._ensemble = torch.cat([self._ensemble, chunk[:, -1:]], dim=1)
            self._ensemble_count = torch.cat([self._ensemble_count, torch.ones_like(n[:1])])
        action = self._ensemble[:, 0]
        self._ensemble, self._ensemble_count = self._ensemble[:, 1:], self._ensemble_count[1:]
        return action
