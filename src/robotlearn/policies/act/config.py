"""ACT hyper-parameters: Action Chunking with Transformers (Zhao et al. 2023, https://arxiv.org/abs/2304.13705).

Model sizes follow the paper (512-wide transformer, 4 encoder layers, CVAE with a 32-d latent,
KL weight 10). The action chunk is shorter than the paper's 100 because PushT runs at 10 fps
(100 steps = 10 s); `--policy.chunk_size` and `--policy.n_action_steps` change it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from robotlearn.policies.policy import ACTION, STATE, VISUAL, PolicyConfig, PolicyConfigError


@dataclass
class ACTConfig(PolicyConfig):
    """ACT config; every field is a `--policy.<name>` flag of `robotlearn train`."""

    type: str = "act"
    """Policy name."""
    normalization: dict = field(default_factory=lambda: {VISUAL: "mean_std", STATE: "mean_std", ACTION: "mean_std"})
    """Feature type -> normalization mode (mean_std, min_max, identity), as JSON."""
    chunk_size: int = 20
    """Actions predicted per forward pass (steps)."""
    n_action_steps: int = 10
    """Actions executed before predicting again."""
    temporal_ensemble_coeff: float | None = None
    """Enable temporal ensembling with weights exp(-coeff * i) (paper: 0.01); needs n_action_steps=1."""
    # Transformer.
    dim_model: int = 512
    """Transformer width."""
    n_heads: int = 8
    """Attention heads."""
    dim_feedforward: int = 3200
    """Feed-forward hidden size."""
    n_encoder_layers: int = 4
    """Transformer encoder layers."""
    n_decoder_layers: int = 1
    """Transformer decoder layers."""
    pre_norm: bool = False
    """LayerNorm before (true) or after (false) each sublayer."""
    dropout: float = 0.1
    """Dropout in the transformer."""
    # CVAE.
    use_vae: bool = True
    """Train with the CVAE objective (latent style variable)."""
    latent_dim: int = 32
    """Size of the CVAE latent."""
    n_vae_encoder_layers: int = 4
    """Layers of the VAE's transformer encoder."""
    kl_weight: float = 10.0
    """Weight of the KL term in the loss."""
    # Asynchronous inference.
    max_action_prefix: int = 0
    """Train with the chunk's first d ~ U{0..max} actions given as inputs (training-time action
    conditioning for real-time chunking, Black et al. 2025), so a policy server can pass the actions
    the robot executes while it computes; 0: off."""
    # Optimization (the paper's values).
    lr: float = 1e-5
    """AdamW learning rate."""
    weight_decay: float = 1e-4
    """AdamW weight decay."""

    def __post_init__(self):
        if self.n_action_steps > self.chunk_size:
            raise PolicyConfigError(
                f"--policy.n_action_steps={self.n_action_steps} must be <= --policy.chunk_size={self.chunk_size}"
            )
        if self.temporal_ensemble_coeff is not None and self.n_action_steps != 1:
            raise PolicyConfigError("temporal ensembling queries the model every step: set --policy.n_action_steps=1")
        if not 0 <= self.max_action_prefix < self.chunk_size:
            raise PolicyConfigError(
                f"--policy.max_action_prefix={self.max_action_prefix} must be in [0, chunk_size={self.chunk_size})"
            )
        if self.dim_model % self.n_heads:
            raise PolicyConfigError(f"--policy.dim_model={self.dim_model} must be divisible by n_heads={self.n_heads}")
