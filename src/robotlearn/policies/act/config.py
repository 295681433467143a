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

    type: str = field(default="act", metadata={"help": "Policy name."})
    normalization: dict = field(
        default_factory=lambda: {VISUAL: "mean_std", STATE: "mean_std", ACTION: "mean_std"},
        metadata={"help": "Feature type -> normalization mode (mean_std, min_max, identity), as JSON."},
    )
    chunk_size: int = field(default=20, metadata={"help": "Actions predicted per forward pass (steps)."})
    n_action_steps: int = field(default=10, metadata={"help": "Actions executed before predicting again."})
    temporal_ensemble_coeff: float | None = field(
        default=None,
        metadata={"help": "Enable temporal ensembling with weights exp(-coeff * i) (paper: 0.01); needs n_action_steps=1."},
    )
    # Transformer.
    dim_model: int = field(default=512, metadata={"help": "Transformer width."})
    n_heads: int = field(default=8, metadata={"help": "Attention heads."})
    dim_feedforward: int = field(default=3200, metadata={"help": "Feed-forward hidden size."})
    n_encoder_layers: int = field(default=4, metadata={"help": "Transformer encoder layers."})
    n_decoder_layers: int = field(default=1, metadata={"help": "Transformer decoder layers."})
    pre_norm: bool = field(default=False, metadata={"help": "LayerNorm before (true) or after (false) each sublayer."})
    dropout: float = field(default=0.1, metadata={"help": "Dropout in the transformer."})
    # CVAE.
    use_vae: bool = field(default=True, metadata={"help": "Train with the CVAE objective (latent style variable)."})
    latent_dim: int = field(default=32, metadata={"help": "Size of the CVAE latent."})
    n_vae_encoder_layers: int = field(default=4, metadata={"help": "Layers of the VAE's transformer encoder."})
    kl_weight: float = field(default=10.0, metadata={"help": "Weight of the KL term in the loss."})
    # Optimization (the paper's values).
    lr: float = field(default=1e-5, metadata={"help": "AdamW learning rate."})
    weight_decay: float = field(default=1e-4, metadata={"help": "AdamW weight decay."})

    def __post_init__(self):
        if self.n_action_steps > self.chunk_size:
            raise PolicyConfigError(
                f"--policy.n_action_steps={self.n_action_steps} must be <= --policy.chunk_size={self.chunk_size}"
            )
        if self.temporal_ensemble_coeff is not None and self.n_action_steps != 1:
            raise PolicyConfigError("temporal ensembling queries the model every step: set --policy.n_action_steps=1")
        if self.dim_model % self.n_heads:
            raise PolicyConfigError(f"--policy.dim_model={self.dim_model} must be divisible by n_heads={self.n_heads}")
