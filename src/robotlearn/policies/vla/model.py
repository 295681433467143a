"""VLA: a small vision-language-action policy with SmolVLA's structure, trained from scratch, plain PyTorch.

Reading order:
  1. the image encoder (patchify, 3x3 convs, pooled and pixel-unshuffled to a fixed token count)
  2. transformer blocks (pre-norm; self-attention, cross-attention, causal self-attention)
  3. VLAPolicy: the prefix [image tokens per camera, instruction tokens, state token] through the
     backbone; the action expert (0.75x wide) over the action chunk, its layer i attending to the
     backbone's layer-i output (even i: cross-attention) or causally to the chunk itself (odd i);
     the flow-matching (or L1) loss; `predict_action_chunk` by Euler integration; `select_action`
     with an action queue.

      camera(s) --conv--> 16 tokens each --+
      instruction --tokenizer/embed--> L --+--> backbone layer 1 --> ... --> layer N
      state --pad/linear--> 1 token -------+          |                      |
                                                    (k, v)                 (k, v)
      x_t (noisy chunk) + time t --> expert layer 1 (cross) --> layer 2 (causal self) --> ... --> velocity

SmolVLA's expert cross-attends to the backbone's keys and values inside each layer; here it attends
to each layer's output through its own key/value projections (same information flow, simpler code).
State and action vectors are zero-padded to `max_state_dim` / `max_action_dim`, and the loss is
masked to the real action dimensions, so robots of different sizes share one model.

Shapes: B batch, K = chunk_size, A = max_action_dim, D = dim_model, E = expert width, N prefix length.
"""

from __future__ import annotations

import json
import logging
import math
from collections import deque
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from robotlearn.policies import flow_matching
from robotlearn.policies.per_sample import SampleRandom
from robotlearn.policies.policy import ACTION_KEY, Policy, PolicyConfigError, PolicyNotFoundError, config_from_dict
from robotlearn.policies.vla.config import VLAConfig
from robotlearn.policies.vla.tokenizer import InstructionTokenizer

logger = logging.getLogger(__name__)
TASK_KEY = "task"
TOKENIZER_FILE = "tokenizer.json"
ACTION_DIM_MASK_KEY = "action_dim_mask"
"""Optional batch key: (B, W) bool, W <= max_action_dim, True on each sample's real action dimensions
(mixed-robot batches, from `datasets.multi.MultiLeRobotDataset`); default: the first `action_dim`."""
DIM_MASK_SUFFIX = "_dim_mask"
"""`<state key>_dim_mask` (B, W) bool: the sample's real dimensions of that state feature; the others
are zeroed after normalization, so padding reads as 0 whatever the statistics."""

# --------------------------------------------------------------------------------------------
# 1. Image encoder
# --------------------------------------------------------------------------------------------


class ImageEncoder(nn.Module):
    """(B, C, H, W) image -> (B, g*g, D) tokens, g = image_tokens_per_side, for any H, W >= 2g * patch.

    A patchifying conv (kernel = stride = patch_size), residual 3x3 convs, then average pooling to
    (2g, 2g) and a 2x2 pixel-unshuffle (SmolVLA's pixel shuffle: neighbouring cells stacked into
    channels) to (g, g) cells of 4C channels, each projected to one token."""

    def __init__(self, in_channels: int, config: VLAConfig):
        super().__init__()
        c, g = config.vision_channels, config.image_tokens_per_side
        self.patchify = nn.Conv2d(in_channels, c, config.patch_size, stride=config.patch_size)
        self.norm = nn.GroupNorm(min(8, c), c)
        self.convs = nn.ModuleList(
            [
                nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.GroupNorm(min(8, c), c), nn.GELU())
                for _ in range(config.n_vision_layers)
            ]
        )
        self.pool = nn.AdaptiveAvgPool2d(2 * g)
        self.proj = nn.Linear(4 * c, config.dim_model)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = F.gelu(self.norm(self.patchify(images)))  # (B, C, H/p, W/p)
        for conv in self.convs:
            x = x + conv(x)
        x = F.pixel_unshuffle(self.pool(x), 2)  # (B, 4C, g, g)
        return self.proj(x.flatten(2).transpose(1, 2))  # (B, g*g, D)


# --------------------------------------------------------------------------------------------
# 2. Transformer blocks
# --------------------------------------------------------------------------------------------


class Block(nn.Module):
    """Pre-norm attention + feed-forward. Self-attention when `context_width` is None, else
    cross-attention from the queries (width `width`) to a context of width `context_width`."""

    def __init__(self, width: int, config: VLAConfig, context_width: int | None = None):
        super().__init__()
        self.cross = context_width is not None
        kv = context_width if self.cross else width
        self.norm = nn.LayerNorm(width)
        self.context_norm = nn.LayerNorm(kv) if self.cross else None
        self.attn = nn.MultiheadAttention(
            width, config.n_heads, dropout=config.dropout, kdim=kv, vdim=kv, batch_first=True
        )
        self.ff_norm = nn.LayerNorm(width)
        self.ff = nn.Sequential(
            nn.Linear(width, config.ff_mult * width),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.Linear(config.ff_mult * width, width),
        )

    def forward(self, x, context=None, key_padding_mask=None, attn_mask=None):
        """x (B, T, W); context (B, N, W_ctx) for cross-attention; key_padding_mask (B, keys) True
        on padding; attn_mask (T, T) True where attention is not allowed."""
        h = self.norm(x)
        kv = self.context_norm(context) if self.cross else h
        x = x + self.attn(h, kv, kv, key_padding_mask=key_padding_mask, attn_mask=attn_mask, need_weights=False)[0]
        return x + self.ff(self.ff_norm(x))


def time_embedding(t: torch.Tensor, width: int, min_period: float = 4e-3, max_period: float = 4.0) -> torch.Tensor:
    """(B,) flow times in [0, 1] -> (B, width) sine/cosine features (SmolVLA's periods 4e-3 .. 4)."""
    fraction = torch.linspace(0.0, 1.0, width // 2, device=t.device, dtype=torch.float32)
    period = min_period * (max_period / min_period) ** fraction
    angles = 2 * math.pi * t.float()[:, None] / period[None]
    return torch.cat([angles.sin(), angles.cos()], dim=-1).to(t.dtype)


def pad_last_dim(x: torch.Tensor, width: int) -> torch.Tensor:
    """Zero-pads the last dimension of `x` to `width` (ValueError if it is wider)."""
    if x.shape[-1] > width:
        raise ValueError(f"vector of width {x.shape[-1]} does not fit the padded width {width}")
    return F.pad(x, (0, width - x.shape[-1]))


# --------------------------------------------------------------------------------------------
# 3. The policy
# --------------------------------------------------------------------------------------------


class VLAPolicy(Policy):
    """Language-conditioned policy: a transformer over (images, instruction, state) and a
    flow-matching action expert predicting a chunk of K actions. See the module docstring.

    Args:
        config: the VLAConfig (features filled from the dataset).
        stats: normalization statistics (dataset `meta.stats`).
        tokenizer: the instruction tokenizer; None trains one on `config.instructions`.
    """

    config_class = VLAConfig
    name = "vla"
    masks_padded_dims = True  # trains on datasets of different widths (`<key>_dim_mask`, see datasets/multi.py)

    def __init__(self, config: VLAConfig, stats: dict | None = None, tokenizer: InstructionTokenizer | None = None):
        super().__init__(config, stats)
        if config.pretrained_backbone_path:
            raise PolicyConfigError("--policy.pretrained_backbone_path: the VLA has its own image encoder (no ResNet)")
        if tokenizer is None:
            if not config.instructions:
                logger.warning(
                    "VLA built with no --policy.instructions: its vocabulary is empty and every word of an "
                    "instruction maps to [UNK]; pass the dataset's tasks (dataset.meta.tasks) to use language"
                )
            tokenizer = InstructionTokenizer.train(config.instructions, vocab_size=config.vocab_size)
        if tokenizer.vocab_size > config.vocab_size:
            raise PolicyConfigError(
                f"the tokenizer has {tokenizer.vocab_size} tokens but --policy.vocab_size={config.vocab_size}"
            )
        self.tokenizer = tokenizer
        d, e, k = config.dim_model, config.expert_width, config.chunk_size
        self.state_dim = sum(config.features[key]["shape"][0] for key in config.state_keys)
        if self.state_dim > config.max_state_dim:
            raise PolicyConfigError(
                f"the state has {self.state_dim} dimensions ({config.state_keys}) but "
                f"--policy.max_state_dim={config.max_state_dim}"
            )
        if config.action_dim > config.max_action_dim:
            raise PolicyConfigError(
                f"the action has {config.action_dim} dimensions but --policy.max_action_dim={config.max_action_dim}"
            )
        # Prefix: one encoder per camera, the instruction embedding, the state token.
        self.image_encoders = nn.ModuleDict(
            {key.replace(".", "_"): ImageEncoder(config.features[key]["shape"][0], config) for key in config.image_keys}
        )
        n_img = config.n_image_tokens
        self.image_pos = nn.Parameter(torch.randn(max(len(config.image_keys), 1), n_img, d) * 0.02)
        self.token_embedding = nn.Embedding(config.vocab_size, d, padding_idx=0)
        self.instruction_pos = nn.Parameter(torch.randn(config.max_instruction_tokens, d) * 0.02)
        self.state_proj = nn.Linear(config.max_state_dim, d)
        self.backbone = nn.ModuleList([Block(d, config) for _ in range(config.n_layers)])
        # Action expert: layer i cross-attends to backbone layer i (even i) or self-attends causally (odd i).
        self.action_in = nn.Linear(config.max_action_dim, e)
        self.action_time_mlp = nn.Sequential(nn.Linear(2 * e, e), nn.SiLU(), nn.Linear(e, e))
        self.chunk_pos = nn.Parameter(torch.randn(k, e) * 0.02)
        self.expert = nn.ModuleList(
            [Block(e, config, context_width=d if i % 2 == 0 else None) for i in range(config.n_layers)]
        )
        self.expert_norm = nn.LayerNorm(e)
        self.action_out = nn.Linear(e, config.max_action_dim)
        self.register_buffer("causal_mask", torch.ones(k, k, dtype=torch.bool).triu(1), persistent=False)
        self.reset()

    def delta_timestamps(self, fps: int) -> dict[str, list[float]]:
        return {ACTION_KEY: [i / fps for i in range(self.config.chunk_size)]}

    def reset(self) -> None:
        self._action_queue: deque = deque()

    # -- the network ----------------------------------------------------------------------------
    def _tasks(self, batch: dict, batch_size: int) -> list[str]:
        """The batch's instructions as B strings: batch["task"] (a list of B strings, or one string
        for every sample); "" (no instruction) when absent."""
        tasks = batch.get(TASK_KEY)
        if tasks is None:
            return [""] * batch_size
        if isinstance(tasks, str):
            return [tasks] * batch_size
        tasks = list(tasks)
        if len(tasks) == 1 and batch_size > 1:
            return tasks * batch_size
        if len(tasks) != batch_size:
            raise PolicyConfigError(f"batch['task'] has {len(tasks)} instructions for a batch of {batch_size}")
        return [str(t) for t in tasks]

    def embed_prefix(self, batch: dict, tasks: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalized observations + instructions -> prefix tokens (B, N, D) and their padding mask
        (B, N), True on padding (unused instruction slots)."""
        b = len(tasks)
        tokens, pads = [], []
        for j, key in enumerate(self.config.image_keys):
            images = batch[key]
            if images.dim() == 5:  # (B, 1, C, H, W): a one-step observation window
                images = images[:, -1]
            tokens.append(self.image_encoders[key.replace(".", "_")](images) + self.image_pos[j])
            pads.append(torch.zeros(b, tokens[-1].shape[1], dtype=torch.bool, device=self.device))
        ids, real = self.tokenizer.encode_batch(tasks, self.config.max_instruction_tokens)
        ids, real = ids.to(self.device), real.to(self.device)
        tokens.append(self.token_embedding(ids) + self.instruction_pos)
        pads.append(~real)
        if self.state_dim:
            parts = []
            for key in self.config.state_keys:
                value, mask = batch[key], batch.get(key + DIM_MASK_SUFFIX)
                if mask is not None:  # (B, W): padded dimensions of a narrower robot read as 0
                    value = value * (mask[:, None] if value.dim() == 3 else mask).to(value.dtype)
                parts.append(value)
            state = torch.cat(parts, dim=-1)
            state = state[:, -1] if state.dim() == 3 else state
        else:
            state = torch.zeros(b, 0, device=self.device)
        tokens.append(self.state_proj(pad_last_dim(state, self.config.max_state_dim))[:, None])
        pads.append(torch.zeros(b, 1, dtype=torch.bool, device=self.device))
        return torch.cat(tokens, dim=1), torch.cat(pads, dim=1)

    def run_backbone(self, prefix: torch.Tensor, pad: torch.Tensor) -> list[torch.Tensor]:
        """Prefix (B, N, D) -> every kept layer's output, a list of n_layers (B, N, D) tensors."""
        hidden, x = [], prefix
        for layer in self.backbone:
            x = layer(x, key_padding_mask=pad)
            hidden.append(x)
        return hidden

    def velocity(self, hidden: list[torch.Tensor], pad: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor):
        """The action expert: noisy chunk x_t (B, K, A) at flow time t (B,) -> velocity (B, K, A)
        (with the L1 head: the chunk itself, from x_t = 0, t = 0)."""
        e = self.config.expert_width
        a = self.action_in(x_t)  # (B, K, E)
        time = time_embedding(t, e)[:, None].expand(-1, a.shape[1], -1)
        a = self.action_time_mlp(torch.cat([a, time], dim=-1)) + self.chunk_pos
        for i, layer in enumerate(self.expert):
            if layer.cross:
                a = layer(a, context=hidden[i], key_padding_mask=pad)
            else:
                a = layer(a, attn_mask=self.causal_mask)
        return self.action_out(self.expert_norm(a))

    def _dim_mask(self, batch: dict, b: int) -> torch.Tensor:
        """(B, A) bool: the real (unpadded) action dimensions of each sample."""
        if ACTION_DIM_MASK_KEY in batch:
            mask = batch[ACTION_DIM_MASK_KEY].to(self.device, torch.bool)
            return F.pad(mask, (0, self.config.max_action_dim - mask.shape[-1]))  # padding past the width: False
        mask = torch.zeros(b, self.config.max_action_dim, dtype=torch.bool, device=self.device)
        mask[:, : self.config.action_dim] = True
        return mask

    def _state_masks(self, batch: dict) -> dict[str, torch.Tensor]:
        """The batch's `<state key>_dim_mask` tensors, on the policy's device (prepare_batch drops them)."""
        keys = [k + DIM_MASK_SUFFIX for k in self.config.state_keys]
        return {k: batch[k].to(self.device, torch.bool) for k in keys if isinstance(batch.get(k), torch.Tensor)}

    # -- interface -------------------------------------------------------------------------------
    def forward(self, batch: dict) -> tuple[torch.Tensor, dict]:
        """Flow-matching MSE (or L1 with action_head="l1") on the padded action chunk, averaged over
        each sample's real steps and action dimensions, then over samples.

        Noise and flow times are drawn per sample when the batch carries per-sample seeds (see
        per_sample.py), else from torch's global generator."""
        b = len(batch[ACTION_KEY])
        rng = SampleRandom.from_batch(batch, b, self.device)
        tasks = self._tasks(batch, b)
        dim_mask = self._dim_mask(batch, b)
        masks = self._state_masks(batch)
        batch = {**self.prepare_batch(batch), **masks}
        actions = pad_last_dim(batch[ACTION_KEY], self.config.max_action_dim)  # (B, K, A)
        prefix, pad = self.embed_prefix(batch, tasks)
        hidden = self.run_backbone(prefix, pad)
        if self.config.action_head == "flow":
            noise = rng.normal_like(actions)
            u = 0.5 * (1 + torch.erf(rng.normal_like(actions[:, 0, 0]) / math.sqrt(2)))  # (B,) uniform draws
            t = flow_matching.time_from_uniform(u)

            def velocity_fn(x_t, time):
                return self.velocity(hidden, pad, x_t, time)

            err = flow_matching.flow_matching_loss(velocity_fn, actions, noise=noise, t=t)
        else:
            zeros_t = torch.zeros(b, device=actions.device)
            err = (self.velocity(hidden, pad, torch.zeros_like(actions), zeros_t) - actions).abs()
        valid = dim_mask[:, None, :].to(err.dtype).expand_as(err)
        if f"{ACTION_KEY}_is_pad" in batch:
            valid = valid * (~batch[f"{ACTION_KEY}_is_pad"])[:, :, None].to(err.dtype)
        loss = ((err * valid).sum(dim=(1, 2)) / valid.sum(dim=(1, 2)).clamp(min=1)).mean()
        return loss, {"loss": loss.item(), f"{self.config.action_head}_loss": loss.item()}

    @torch.no_grad()
    def predict_action_chunk(
        self, observation: dict, generator: torch.Generator | None = None, noise: torch.Tensor | None = None
    ) -> torch.Tensor:
        """One observation {key: (B, ...), "task": [B strings] or one string} -> the chunk
        (B, chunk_size, action_dim), unnormalized.

        The flow head integrates from noise (B, K, max_action_dim) drawn from `generator` (None:
        torch's global generator) or given as `noise`, so the same seed gives the same chunk."""
        self.check_observation(observation)
        tensors = [v for k, v in observation.items() if isinstance(v, torch.Tensor) and k in self.config.features]
        b = tensors[0].shape[0]
        tasks = self._tasks(observation, b)
        batch = {**self.prepare_batch(observation), **self._state_masks(observation)}
        prefix, pad = self.embed_prefix(batch, tasks)
        hidden = self.run_backbone(prefix, pad)
        shape = (b, self.config.chunk_size, self.config.max_action_dim)
        if self.config.action_head == "flow":
            chunk = flow_matching.euler_sample(
                lambda x, t: self.velocity(hidden, pad, x, t),
                shape,
                generator,
                n_steps=self.config.num_inference_steps,
                device=self.device,
                noise=noise,
            )
        else:
            chunk = self.velocity(
                hidden, pad, torch.zeros(shape, device=self.device), torch.zeros(b, device=self.device)
            )
        return self.unnormalize_actions(chunk[..., : self.config.action_dim], batch)

    @torch.no_grad()
    def select_action(self, observation: dict) -> torch.Tensor:
        """One observation {key: (B, ...), "task": the instruction} -> action (B, action_dim): the
        first n_action_steps actions of `predict_action_chunk`, one per call, re-planned when used up."""
        self.check_observation(observation)
        if not self._action_queue:
            chunk = self.predict_action_chunk(observation)
            self._action_queue.extend(chunk[:, : self.config.n_action_steps].unbind(dim=1))
        return self._action_queue.popleft()

    # -- saving ----------------------------------------------------------------------------------
    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """nn.Module.load_state_dict, with SmolVLA's layer skipping: the weights of backbone and
        expert layers past the `n_backbone_layers_kept` built here are dropped, so a deeper
        checkpoint loads into a policy that keeps only its first N layers."""
        n = self.config.n_layers

        def kept(key: str) -> bool:
            parts = key.split(".")
            return not (
                parts[0] in ("backbone", "expert") and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) >= n
            )

        return super().load_state_dict({k: v for k, v in state_dict.items() if kept(k)}, strict=strict, assign=assign)

    def save_pretrained(self, directory: str | Path) -> Path:
        """Writes config.json, model.safetensors and the tokenizer (tokenizer.json) into `directory`."""
        directory = super().save_pretrained(directory)
        self.tokenizer.save(directory / TOKENIZER_FILE)
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: str | torch.device = "cpu") -> VLAPolicy:
        """Rebuilds a VLA saved by `save_pretrained` (config.json, model.safetensors, tokenizer.json).
        Raises PolicyNotFoundError / PolicyConfigError."""
        from safetensors.torch import load_file

        directory = Path(directory)
        paths = [directory / "config.json", directory / "model.safetensors", directory / TOKENIZER_FILE]
        for p in paths:
            if not p.is_file():
                raise PolicyNotFoundError(f"{p} not found: pass the pretrained_model directory written by training")
        config = config_from_dict(cls.config_class, json.loads(paths[0].read_text()), source=str(paths[0]))
        policy = cls(config, tokenizer=InstructionTokenizer.load(paths[2]))
        policy.load_state_dict(load_file(str(paths[1])))
        return policy.to(device).eval()
