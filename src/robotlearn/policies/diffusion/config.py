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

    type: str = field(default="diffusion", metadata={"help": "Policy name."})
    normalization: dict = field(
        default_factory=lambda: {VISUAL: "mean_std", STATE: "min_max", ACTION: "min_max"},
        metadata={"help": "Feature type -> normalization mode (mean_std, min_max, identity), as JSON."},
    )
    # Time windows.
    n_obs_steps: int = field(default=2, metadata={"help": "Observation history length (frames)."})
    horizon: int = field(default=16, metadata={"help": "Length of the predicted action sequence (steps)."})
    n_action_steps: int = field(default=8, metadata={"help": "Actions executed per prediction (<= horizon - n_obs_steps + 1)."})
    # Vision encoder.
    crop_shape: tuple[int, int] | None = field(default=(84, 84), metadata={"help": "Crop images to (h, w); none to disable."})
    crop_is_random: bool = field(default=True, metadata={"help": "Random crop in training (center crop at inference)."})
    use_group_norm: bool = field(default=True, metadata={"help": "Replace BatchNorm by GroupNorm in the ResNet-18."})
    spatial_softmax_num_keypoints: int = field(default=32, metadata={"help": "Keypoints per camera (spatial softmax)."})
    # U-Net.
    down_dims: tuple[int, ...] = field(default=(64, 128, 256), metadata={"help": "U-Net channel widths per level."})
    kernel_size: int = field(default=5, metadata={"help": "U-Net 1-D convolution kernel size."})
    n_groups: int = field(default=8, metadata={"help": "GroupNorm groups in the U-Net."})
    diffusion_step_embed_dim: int = field(default=128, metadata={"help": "Size of the timestep embedding."})
    use_film_scale_modulation: bool = field(default=True, metadata={"help": "FiLM with scale and bias (else bias only)."})
    # Noise schedule.
    num_train_timesteps: int = field(default=100, metadata={"help": "DDPM training timesteps."})
    beta_schedule: str = field(default="squaredcos_cap_v2", metadata={"help": "squaredcos_cap_v2 or linear."})
    beta_start: float = field(default=1e-4, metadata={"help": "First beta of the linear schedule."})
    beta_end: float = field(default=0.02, metadata={"help": "Last beta of the linear schedule."})
    prediction_type: str = field(default="epsilon", metadata={"help": "What the U-Net predicts: epsilon or sample."})
    clip_sample: bool = field(default=True, metadata={"help": "Clip the predicted clean actions while sampling."})
    clip_sample_range: float = field(default=1.0, metadata={"help": "Clip range (normalized units)."})
    num_inference_steps: int = field(default=10, metadata={"help": "DDIM sampling steps at inference."})
    do_mask_loss_for_padding: bool = field(default=True, metadata={"help": "Ignore padded action steps in the loss."})
    # Optimization (the paper's values).
    lr: float = field(default=1e-4, metadata={"help": "AdamW learning rate."})
    weight_decay: float = field(default=1e-6, metadata={"help": "AdamW weight decay."})
    grad_clip_norm: float = field(default=10.0, metadata={"help": "Clip the gradient's global norm to this."})
    scheduler: str = field(default="cosine", metadata={"help": "LR schedule: constant or cosine (with warmup)."})
    warmup_steps: int = field(default=500, metadata={"help": "Linear LR warmup steps."})
    use_ema: bool = field(default=True, metadata={"help": "Keep (and save) an EMA of the weights."})

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
            raise PolicyConfigError(f"--policy.beta_schedule must be squaredcos_cap_v2 or linear, got {self.beta_schedule!r}")
        if any(d % self.n_groups for d in self.down_dims):
            raise PolicyConfigError(f"--policy.down_dims {self.down_dims} must be multiples of n_groups={self.n_groups}")
