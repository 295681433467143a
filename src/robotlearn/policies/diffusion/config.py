"""Diffusion Policy hyper-parameters (Chi et al. 2023, https://arxiv.org/abs/2303.04137).

Defaults are sized to learn PushT on a laptop CPU: the U-Net is (64, 128, 256) wide instead of the
paper's (512, 1024, 2048). Everything else follows the paper's PushT setup: 2 observation steps,
a 16-step action horizon of which 8 are executed, 100 DDPM training timesteps with the
squared-cosine schedule, epsilon prediction, and 10 DDIM steps at inference.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from robotlearn.policies.policy import ACTION, STATE, VISUAL, PolicyConfig, PolicyConfigError


@dataclass
class DiffusionConfig(PolicyConfig):
    """Diffusion Policy config; every field is a `--policy.<name>` flag of `robotlearn train`."""

    type: str = "diffusion"
    """Policy name."""
    normalization: dict = field(default_factory=lambda: {VISUAL: "mean_std", STATE: "min_max", ACTION: "min_max"})
    """Feature type -> normalization mode (mean_std, min_max, identity), as JSON."""
    # Time windows.
    n_obs_steps: int = 2
    """Observation history length (frames)."""
    horizon: int = 16
    """Length of the predicted action sequence (steps)."""
    n_action_steps: int = 8
    """Actions executed per prediction (<= horizon - n_obs_steps + 1)."""
    # Vision encoder.
    crop_shape: tuple[int, int] | None = (84, 84)
    """Crop images to (h, w); none to disable."""
    crop_is_random: bool = True
    """Random crop in training (center crop at inference)."""
    use_group_norm: bool = True
    """Replace BatchNorm by GroupNorm in the ResNet-18."""
    spatial_softmax_num_keypoints: int = 32
    """Keypoints per camera (spatial softmax)."""
    # U-Net.
    down_dims: tuple[int, ...] = (64, 128, 256)
    """U-Net channel widths per level."""
    kernel_size: int = 5
    """U-Net 1-D convolution kernel size."""
    n_groups: int = 8
    """GroupNorm groups in the U-Net."""
    diffusion_step_embed_dim: int = 128
    """Size of the timestep embedding."""
    use_film_scale_modulation: bool = True
    """FiLM with scale and bias (else bias only)."""
    # Noise schedule.
    num_train_timesteps: int = 100
    """DDPM training timesteps."""
    beta_schedule: str = "squaredcos_cap_v2"
    """squaredcos_cap_v2 or linear."""
    beta_start: float = 1e-4
    """First beta of the linear schedule."""
    beta_end: float = 0.02
    """Last beta of the linear schedule."""
    prediction_type: str = "epsilon"
    """What the U-Net predicts: epsilon or sample."""
    clip_sample: bool = True
    """Clip the predicted clean actions while sampling."""
    clip_sample_range: float = 1.0
    """Clip range (normalized units)."""
    num_inference_steps: int = 10
    """DDIM sampling steps at inference."""
    do_mask_loss_for_padding: bool = True
    """Ignore padded action steps in the loss."""
    # Optimization (the paper's values).
    lr: float = 1e-4
    """AdamW learning rate."""
    weight_decay: float = 1e-6
    """AdamW weight decay."""
    grad_clip_norm: float = 10.0
    """Clip the gradient's global norm to this."""
    scheduler: str = "cosine"
    """LR schedule: constant or cosine (with warmup)."""
    warmup_steps: int = 500
    """Linear LR warmup steps."""
    use_ema: bool = True
    """Keep (and save) an EMA of the weights."""

    def __post_init__(self):
        levels = len(self.down_dims) - 1
        if self.horizon % (2**levels):
            raise PolicyConfigError(
                f"--policy.horizon={self.horizon} must be divisible by 2**(len(down_dims)-1) = {2**levels}"
            )
        if self.n_action_steps > self.horizon - self.n_obs_steps + 1:
            raise PolicyConfigError(
                f"--policy.n_action_steps={self.n_action_steps} exceeds horizon - n_obs_steps + 1 = "
                f"{self.horizon - self.n_obs_steps + 1}"
            )
        if self.prediction_type not in ("epsilon", "sample"):
            raise PolicyConfigError(f"--policy.prediction_type must be epsilon or sample, got {self.prediction_type!r}")
        if self.beta_schedule not in ("squaredcos_cap_v2", "linear"):
            raise PolicyConfigError(
                f"--policy.beta_schedule must be squaredcos_cap_v2 or linear, got {self.beta_schedule!r}"
            )
        if any(d % self.n_groups for d in self.down_dims):
            raise PolicyConfigError(
                f"--policy.down_dims {self.down_dims} must be multiples of n_groups={self.n_groups}"
            )
