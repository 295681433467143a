"""Diffusion Policy (Chi et al. 2023, https://arxiv.org/abs/2303.04137) in plain PyTorch.

Reading order:
  1. noise schedule: DDPM forward process (training) and DDIM reverse steps (inference)
  2. observation encoder: ResNet-18 -> spatial-softmax keypoints per camera, concatenated with state
  3. 1-D conditional U-Net over the action sequence, FiLM-conditioned on (timestep, observations)
  4. DiffusionPolicy: the loss, and `select_action` with its observation/action queues

Shapes: B batch, T_o = n_obs_steps, T_a = horizon, A = action_dim.
"""

from __future__ import annotations

import math
from collections import deque

import torch
import torch.nn.functional as F
from torch import nn

from robotlearn.policies.diffusion.config import DiffusionConfig
from robotlearn.policies.per_sample import SampleRandom, per_sample_mean
from robotlearn.policies.policy import ACTION_KEY, Policy, PolicyConfigError
from robotlearn.policies.resnet import ResNet18

# --------------------------------------------------------------------------------------------
# 1. Noise schedule
# --------------------------------------------------------------------------------------------


def make_betas(config: DiffusionConfig) -> torch.Tensor:
    """(num_train_timesteps,) noise variances. squaredcos_cap_v2 is Nichol & Dhariwal's cosine schedule."""
    T = config.num_train_timesteps
    if config.beta_schedule == "linear":
        return torch.linspace(config.beta_start, config.beta_end, T, dtype=torch.float64)

    def alpha_bar(t: float) -> float:
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2

    return torch.tensor(
        [min(1 - alpha_bar((i + 1) / T) / alpha_bar(i / T), 0.999) for i in range(T)], dtype=torch.float64
    )


class NoiseSchedule(nn.Module):
    """DDPM forward noising q(x_t | x_0) and deterministic DDIM sampling (eta = 0)."""

    def __init__(self, config: DiffusionConfig):
        super().__init__()
        self.config = config
        alphas_cumprod = torch.cumprod(1.0 - make_betas(config), dim=0)
        self.register_buffer("alphas_cumprod", alphas_cumprod.float(), persistent=False)

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) noise, for integer timesteps t of shape (B,)."""
        abar = self.alphas_cumprod[t].view(-1, *([1] * (x0.dim() - 1)))
        return abar.sqrt() * x0 + (1 - abar).sqrt() * noise

    def inference_timesteps(self) -> list[int]:
        """Evenly spaced timesteps, from noisiest to cleanest (e.g. 90, 80, ..., 0 for 100/10)."""
        step = self.config.num_train_timesteps // self.config.num_inference_steps
        return [i * step for i in reversed(range(self.config.num_inference_steps))]

    def ddim_step(self, model_out: torch.Tensor, t: int, t_prev: int, x_t: torch.Tensor) -> torch.Tensor:
        """One deterministic DDIM step x_t -> x_{t_prev} (Song et al. 2021, eq. 12 with sigma = 0)."""
        abar_t = self.alphas_cumprod[t]
        abar_prev = self.alphas_cumprod[t_prev] if t_prev >= 0 else torch.ones_like(abar_t)
        if self.config.prediction_type == "epsilon":
            x0 = (x_t - (1 - abar_t).sqrt() * model_out) / abar_t.sqrt()
        else:
            x0 = model_out
        if self.config.clip_sample:
            r = self.config.clip_sample_range
            x0 = x0.clamp(-r, r)
        eps = (x_t - abar_t.sqrt() * x0) / (1 - abar_t).sqrt()  # consistent with the (clipped) x0
        return abar_prev.sqrt() * x0 + (1 - abar_prev).sqrt() * eps


# --------------------------------------------------------------------------------------------
# 2. Observation encoder
# --------------------------------------------------------------------------------------------


def crop(images: torch.Tensor, size: tuple[int, int], random: bool, rng: SampleRandom | None = None) -> torch.Tensor:
    """Crops (N, C, H, W) to (N, C, h, w): a random window per image, or the center one.

    The random offsets come from `rng` when given (N = B * T images of B samples, sample-major),
    else from torch's global generator."""
    n, c, H, W = images.shape
    h, w = size
    if (h, w) == (H, W):
        return images
    if not random:
        top, left = (H - h) // 2, (W - w) // 2
        return images[:, :, top : top + h, left : left + w]
    if rng is None:
        top = torch.randint(0, H - h + 1, (n,), device=images.device)
        left = torch.randint(0, W - w + 1, (n,), device=images.device)
    else:
        per_sample = n // rng.batch_size
        top = rng.integers(0, H - h + 1, (per_sample,)).flatten().to(images.device)  # (B, T) -> (N,)
        left = rng.integers(0, W - w + 1, (per_sample,)).flatten().to(images.device)
    rows = (top[:, None] + torch.arange(h, device=images.device))[:, None, :, None]
    cols = (left[:, None] + torch.arange(w, device=images.device))[:, None, None, :]
    idx_n = torch.arange(n, device=images.device)[:, None, None, None]
    idx_c = torch.arange(c, device=images.device)[None, :, None, None]
    return images[idx_n, idx_c, rows, cols]


class SpatialSoftmax(nn.Module):
    """Feature map (N, C, H, W) -> K keypoints (N, K, 2): the softmax-weighted mean (x, y) in [-1, 1]
    of each of K learned 1x1-conv channels (Levine et al. 2016, https://arxiv.org/abs/1504.00702)."""

    def __init__(self, in_channels: int, height: int, width: int, num_keypoints: int):
        super().__init__()
        self.proj = nn.Conv2d(in_channels, num_keypoints, kernel_size=1)
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, height), torch.linspace(-1, 1, width), indexing="ij")
        self.register_buffer("grid", torch.stack([xs.flatten(), ys.flatten()], dim=-1), persistent=False)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        attention = F.softmax(self.proj(features).flatten(2), dim=-1)  # (N, K, H*W)
        return attention @ self.grid


class ObservationEncoder(nn.Module):
    """Observations {key: (B, T_o, ...)} -> global conditioning vector (B, T_o * per_step_dim)."""

    def __init__(self, config: DiffusionConfig):
        super().__init__()
        self.config = config
        self.state_dim = sum(config.features[k]["shape"][0] for k in config.state_keys)
        self.image_feature_dim = 0
        if config.image_keys:
            c, h, w = config.features[config.image_keys[0]]["shape"]
            crop_h, crop_w = config.crop_shape or (h, w)
            self.backbone = ResNet18(norm="group" if config.use_group_norm else "batch", width=config.backbone_width)
            with torch.no_grad():
                fh, fw = self.backbone(torch.zeros(1, c, crop_h, crop_w)).shape[-2:]
            if fh * fw == 1:
                # a softmax over one location is constant: the keypoints would carry no information
                raise PolicyConfigError(
                    f"images of {crop_h}x{crop_w} give a 1x1 ResNet feature map, too small for spatial softmax; "
                    "use images (or --policy.crop_shape) of at least 33x33"
                )
            k = config.spatial_softmax_num_keypoints
            self.pool = SpatialSoftmax(self.backbone.out_channels, fh, fw, k)
            self.out = nn.Sequential(nn.Linear(2 * k, 2 * k), nn.ReLU())
            self.image_feature_dim = 2 * k
        self.per_step_dim = self.state_dim + self.image_feature_dim * len(config.image_keys)

    def forward(self, obs: dict[str, torch.Tensor], rng: SampleRandom | None = None) -> torch.Tensor:
        """`rng` draws the training crops' offsets (None: torch's global generator)."""
        parts = [obs[k] for k in self.config.state_keys]
        for key in self.config.image_keys:
            images = obs[key]  # (B, T_o, C, H, W)
            b, t = images.shape[:2]
            flat = images.flatten(0, 1)
            if self.config.crop_shape is not None:
                random_crop = self.training and self.config.crop_is_random
                flat = crop(flat, self.config.crop_shape, random=random_crop, rng=rng)
            keypoints = self.pool(self.backbone(flat)).flatten(1)
            parts.append(self.out(keypoints).view(b, t, -1))
        return torch.cat(parts, dim=-1).flatten(1)


# --------------------------------------------------------------------------------------------
# 3. Conditional 1-D U-Net
# --------------------------------------------------------------------------------------------


def sinusoidal_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Timesteps (B,) -> (B, dim) transformer-style sinusoidal features."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000) * torch.arange(half, device=t.device) / (half - 1))
    angles = t.float()[:, None] * freqs[None, :]
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


class ConvBlock(nn.Sequential):
    """Conv1d -> GroupNorm -> Mish, length preserving."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, n_groups: int):
        super().__init__(
            nn.Conv1d(in_ch, out_ch, kernel_size, padding=kernel_size // 2), nn.GroupNorm(n_groups, out_ch), nn.Mish()
        )


class FiLMResidualBlock(nn.Module):
    """Two ConvBlocks; between them the features are modulated by the conditioning vector (FiLM,
    Perez et al. 2018): h <- scale(cond) * h + bias(cond), per channel."""

    def __init__(self, in_ch: int, out_ch: int, cond_dim: int, kernel_size: int, n_groups: int, use_scale: bool):
        super().__init__()
        self.use_scale = use_scale
        self.conv1 = ConvBlock(in_ch, out_ch, kernel_size, n_groups)
        self.conv2 = ConvBlock(out_ch, out_ch, kernel_size, n_groups)
        self.film = nn.Sequential(nn.Mish(), nn.Linear(cond_dim, out_ch * (2 if use_scale else 1)))
        self.residual = nn.Conv1d(in_ch, out_ch, 1) if in_ch != out_ch else nn.Identity()

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = self.conv1(x)
        film = self.film(cond).unsqueeze(-1)
        if self.use_scale:
            scale, bias = film.chunk(2, dim=1)
            h = scale * h + bias
        else:
            h = h + film
        return self.conv2(h) + self.residual(x)


class ConditionalUNet1D(nn.Module):
    """Denoiser eps_theta(x_t, t, obs): noisy actions (B, T_a, A) -> (B, T_a, A).

    Convolutions run over time; each level halves the sequence length, the skip connections carry
    the features of the same length back up.
    """

    def __init__(self, config: DiffusionConfig, action_dim: int, global_cond_dim: int):
        super().__init__()
        e = config.diffusion_step_embed_dim
        self.embed_dim = e
        self.step_mlp = nn.Sequential(nn.Linear(e, 4 * e), nn.Mish(), nn.Linear(4 * e, e))
        cond_dim = e + global_cond_dim
        block = lambda i, o: FiLMResidualBlock(  # noqa: E731
            i, o, cond_dim, config.kernel_size, config.n_groups, config.use_film_scale_modulation
        )
        dims = [action_dim, *config.down_dims]
        levels = list(zip(dims[:-1], dims[1:]))
        self.down = nn.ModuleList()
        for i, (d_in, d_out) in enumerate(levels):
            last = i == len(levels) - 1
            downsample = nn.Identity() if last else nn.Conv1d(d_out, d_out, 3, stride=2, padding=1)
            self.down.append(nn.ModuleList([block(d_in, d_out), block(d_out, d_out), downsample]))
        self.mid = nn.ModuleList([block(dims[-1], dims[-1]), block(dims[-1], dims[-1])])
        self.up = nn.ModuleList()
        for d_in, d_out in reversed(levels[1:]):
            upsample = nn.ConvTranspose1d(d_in, d_in, 4, stride=2, padding=1)
            self.up.append(nn.ModuleList([block(2 * d_out, d_in), block(d_in, d_in), upsample]))
        self.final = nn.Sequential(
            ConvBlock(config.down_dims[0], config.down_dims[0], config.kernel_size, config.n_groups),
            nn.Conv1d(config.down_dims[0], action_dim, 1),
        )

    def forward(self, x: torch.Tensor, t: torch.Tensor, global_cond: torch.Tensor) -> torch.Tensor:
        cond = torch.cat([self.step_mlp(sinusoidal_embedding(t, self.embed_dim)), global_cond], dim=-1)
        x = x.transpose(1, 2)  # (B, A, T_a): channels first for Conv1d
        skips = []
        for res1, res2, downsample in self.down:
            x = res2(res1(x, cond), cond)
            skips.append(x)
            x = downsample(x)
        for res in self.mid:
            x = res(x, cond)
        for res1, res2, upsample in self.up:
            x = torch.cat([x, skips.pop()], dim=1)
            x = upsample(res2(res1(x, cond), cond))
        return self.final(x).transpose(1, 2)


# --------------------------------------------------------------------------------------------
# 4. The policy
# --------------------------------------------------------------------------------------------


class DiffusionPolicy(Policy):
    """Diffusion Policy: denoises a horizon of actions conditioned on the last n_obs_steps observations."""

    config_class = DiffusionConfig
    name = "diffusion"

    def __init__(self, config: DiffusionConfig, stats: dict | None = None):
        super().__init__(config, stats)
        self.encoder = ObservationEncoder(config)
        self.unet = ConditionalUNet1D(config, config.action_dim, self.encoder.per_step_dim * config.n_obs_steps)
        self.noise = NoiseSchedule(config)
        self.reset()

    def delta_timestamps(self, fps: int) -> dict[str, list[float]]:
        c = self.config
        obs = [i / fps for i in range(1 - c.n_obs_steps, 1)]
        windows = {k: list(obs) for k in c.features if k != ACTION_KEY}
        windows[ACTION_KEY] = [i / fps for i in range(1 - c.n_obs_steps, c.horizon - c.n_obs_steps + 1)]
        return windows

    def reset(self) -> None:
        self._obs_queue: dict[str, deque] = {}
        self._action_queue: deque = deque()

    def forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
        """Epsilon-prediction loss (MSE) on one batch: obs (B, T_o, ...), action (B, T_a, A).

        Crops, noise and timesteps are drawn per sample when the batch carries per-sample seeds (see
        per_sample.py); the loss is averaged over each sample's unpadded steps, then over samples."""
        rng = SampleRandom.from_batch(batch, len(batch[ACTION_KEY]), self.device)
        batch = self.prepare_batch(batch)
        cond = self.encoder(
            {k: batch[k][:, : self.config.n_obs_steps] for k in self.config.features if k != ACTION_KEY}, rng
        )
        actions = batch[ACTION_KEY]
        noise = rng.normal_like(actions)
        t = rng.integers(0, self.config.num_train_timesteps)  # (B,)
        pred = self.unet(self.noise.add_noise(actions, noise, t), t, cond)
        target = noise if self.config.prediction_type == "epsilon" else actions
        loss = F.mse_loss(pred, target, reduction="none")
        pad = batch.get(f"{ACTION_KEY}_is_pad") if self.config.do_mask_loss_for_padding else None
        loss = per_sample_mean(loss, pad)
        return loss, {"loss": loss.item()}

    @torch.no_grad()
    def generate_actions(self, obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Normalized observations (B, T_o, ...) -> normalized action horizon (B, T_a, A) by DDIM."""
        cond = self.encoder(obs)
        b = cond.shape[0]
        x = torch.randn(b, self.config.horizon, self.config.action_dim, device=cond.device)
        steps = self.noise.inference_timesteps()
        for i, t in enumerate(steps):
            t_prev = steps[i + 1] if i + 1 < len(steps) else -1
            model_out = self.unet(x, torch.full((b,), t, device=cond.device, dtype=torch.long), cond)
            x = self.noise.ddim_step(model_out, t, t_prev, x)
        return x

    def _push_observation(self, obs: dict[str, torch.Tensor]) -> None:
        """Appends one normalized observation step to the history (the first step of an episode is
        repeated n_obs_steps times)."""
        for key in self.config.features:
            if key == ACTION_KEY:
                continue
            if key not in self._obs_queue:
                self._obs_queue[key] = deque([obs[key]] * self.config.n_obs_steps, maxlen=self.config.n_obs_steps)
            else:
                self._obs_queue[key].append(obs[key])

    def _plan(self, history: dict[str, torch.Tensor]) -> torch.Tensor:
        """Normalized history {key: (B, T_o, ...)} -> unnormalized actions from the current step on,
        (B, horizon - n_obs_steps + 1, A)."""
        actions = self.unnormalize_actions(self.generate_actions(history), history)
        return actions[:, self.config.n_obs_steps - 1 :]  # action 0 is aligned with the current observation

    def _has_time_axis(self, observation: dict[str, torch.Tensor]) -> bool:
        key = next(k for k in self.config.features if k != ACTION_KEY)
        return observation[key].ndim == len(self.config.features[key]["shape"]) + 2

    @torch.no_grad()
    def predict_action_chunk(self, observation: dict[str, torch.Tensor]) -> torch.Tensor:
        """Observation -> the denoised actions from the current step on, (B, horizon - n_obs_steps + 1, A).

        `observation` is either one step {key: (B, ...)}, appended to the history kept since the last
        `reset()` (as `select_action` does), or the whole history {key: (B, n_obs_steps, ...)}, oldest
        first, which is used as is and leaves the kept history alone (the policy server's way: the
        robot client sends its last n_obs_steps observations). Samples noise from torch's global RNG."""
        self.check_observation(observation)
        obs = self.prepare_batch(observation)
        if self._has_time_axis(observation):
            n = self.config.n_obs_steps
            history = {k: v for k, v in obs.items() if k in self.config.features and k != ACTION_KEY}
            bad = {k: tuple(v.shape) for k, v in history.items() if v.shape[1] != n}
            if bad:
                raise PolicyConfigError(f"observation history must have n_obs_steps={n} steps on axis 1; got {bad}")
            return self._plan(history)
        self._push_observation(obs)
        return self._plan({k: torch.stack(list(q), dim=1) for k, q in self._obs_queue.items()})

    @torch.no_grad()
    def select_action(self, observation: dict[str, torch.Tensor]) -> torch.Tensor:
        """One observation {key: (B, ...)} -> action (B, A): the first n_action_steps actions of
        `predict_action_chunk`, one per call, re-planned when they are used up (the history is
        updated at every call)."""
        self.check_observation(observation)
        if not self._action_queue:
            chunk = self.predict_action_chunk(observation)
            self._action_queue.extend(chunk[:, : self.config.n_action_steps].unbind(dim=1))
        else:
            self._push_observation(self.prepare_batch(observation))
        return self._action_queue.popleft()
