"""VLA hyper-parameters: a small SmolVLA (Shukor et al. 2025, https://arxiv.org/abs/2506.01844) trained
from scratch.

The structure is SmolVLA's: image tokens, instruction tokens and one state token feed a transformer
backbone cut to its first `n_backbone_layers_kept` layers; an action expert 0.75x as wide alternates
cross-attention to the backbone with causal self-attention over the action chunk, trained by flow
matching (10 Euler steps at inference). The sizes are about 1% of SmolVLA's, to train on a CPU:
SmolVLA's pretrained SigLIP encoder and SmolLM2 layers are replaced by a conv encoder and
transformer layers trained here, and its tokenizer by a word-level one trained on the dataset's
instructions (`instructions`). SmolVLA pads state and action to 32; the state pads to 64 here so
that Meta-World's 39-d state fits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from robotlearn.policies.policy import ACTION, STATE, VISUAL, PolicyConfig, PolicyConfigError


@dataclass
class VLAConfig(PolicyConfig):
    """VLA config; every field is a `--policy.<name>` flag of `robotlearn train`."""

    type: str = "vla"
    """Policy name."""
    normalization: dict = field(default_factory=lambda: {VISUAL: "mean_std", STATE: "mean_std", ACTION: "mean_std"})
    """Feature type -> normalization mode (mean_std, min_max, identity), as JSON."""
    chunk_size: int = 10
    """Actions predicted per chunk (steps)."""
    n_action_steps: int = 10
    """Actions executed from each chunk before predicting again (SmolVLA executes the whole chunk)."""
    max_state_dim: int = 64
    """Width the concatenated state is zero-padded to (datasets of different robots share it)."""
    max_action_dim: int = 32
    """Width actions are zero-padded to; the loss ignores the padded dimensions."""
    # Vision.
    patch_size: int = 4
    """Side of the conv encoder's first (patchifying) convolution's kernel and stride, pixels."""
    vision_channels: int = 64
    """Channels of the conv encoder."""
    n_vision_layers: int = 2
    """3x3 conv layers after the patchifying one."""
    image_tokens_per_side: int = 4
    """Image tokens per camera = this squared (pooled to 2x this per side, then pixel-unshuffled 2x2)."""
    # Language.
    instructions: list[str] = field(default_factory=list)
    """Instructions the tokenizer's vocabulary is trained on (the dataset's tasks); saved as tokenizer.json."""
    vocab_size: int = 1024
    """Rows of the token embedding: the tokenizer keeps at most this many words (specials included)."""
    max_instruction_tokens: int = 16
    """Instruction tokens kept (longer instructions are truncated), tokens."""
    # Backbone.
    dim_model: int = 128
    """Backbone width."""
    n_heads: int = 4
    """Attention heads (backbone and expert)."""
    n_backbone_layers: int = 4
    """Depth of the backbone transformer the kept layers are the first of."""
    n_backbone_layers_kept: int | None = None
    """Keep only the first N backbone layers (SmolVLA keeps 16 of 32); None: all. The expert has one layer per kept layer."""
    ff_mult: int = 4
    """Feed-forward hidden size as a multiple of the layer's width."""
    dropout: float = 0.0
    """Dropout in the transformer layers."""
    # Action expert.
    expert_width_ratio: float = 0.75
    """Action expert width / backbone width (SmolVLA: 0.75)."""
    action_head: str = "flow"
    """flow (flow matching, SmolVLA) or l1 (L1 regression of the chunk, the ablation)."""
    num_inference_steps: int = 10
    """Euler steps from noise to actions at inference (flow head)."""
    # Optimization (SmolVLA's betas and clip; a higher learning rate for training from scratch).
    lr: float = 3e-4
    """AdamW learning rate."""
    weight_decay: float = 1e-4
    """AdamW weight decay."""

    def __post_init__(self):
        problems = []
        if self.n_action_steps > self.chunk_size:
            problems.append(
                f"--policy.n_action_steps={self.n_action_steps} must be <= --policy.chunk_size={self.chunk_size}"
            )
        if self.action_head not in ("flow", "l1"):
            problems.append(f"--policy.action_head={self.action_head!r}: expected 'flow' or 'l1'")
        if self.dim_model % self.n_heads or self.expert_width % self.n_heads:
            problems.append(
                f"--policy.dim_model={self.dim_model} and the expert width {self.expert_width} "
                f"(dim_model * expert_width_ratio) must both be divisible by n_heads={self.n_heads}"
            )
        kept = self.n_backbone_layers_kept
        if kept is not None and not 1 <= kept <= self.n_backbone_layers:
            problems.append(
                f"--policy.n_backbone_layers_kept={kept} must be in 1..n_backbone_layers={self.n_backbone_layers}"
            )
        if self.vocab_size < 2:
            problems.append(f"--policy.vocab_size={self.vocab_size}: need room for [PAD] and [UNK]")
        if problems:
            raise PolicyConfigError("; ".join(problems))

    @property
    def expert_width(self) -> int:
        """Width of the action expert: dim_model * expert_width_ratio, rounded down."""
        return int(self.dim_model * self.expert_width_ratio)

    @property
    def n_layers(self) -> int:
        """Backbone layers actually built and run (= action expert layers)."""
        return self.n_backbone_layers if self.n_backbone_layers_kept is None else self.n_backbone_layers_kept

    @property
    def n_image_tokens(self) -> int:
        """Tokens per camera."""
        return self.image_tokens_per_side**2
