"""SAC hyper-parameters: Soft Actor-Critic (Haarnoja et al. 2018, https://arxiv.org/abs/1812.05905)
for continuous actions, with DrQ random-shift augmentation for cameras (Kostrikov et al. 2020).

Defaults follow the SAC paper and HIL-SERL (256x256 MLPs, two critics, tau 0.005, automatic
temperature with target entropy -|A|); `discount` 0.99. Actions are squashed by tanh into
[-1, 1] and mapped onto the action feature's [min, max] (its statistics or the env's bounds), so
the policy never commands outside the bounds it was built with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from robotlearn.policies.policy import ACTION, STATE, VISUAL, PolicyConfig, PolicyConfigError


@dataclass
class SACConfig(PolicyConfig):
    """SAC config; every field is a `--policy.<name>` flag."""

    type: str = "sac"
    """Policy name."""
    normalization: dict = field(default_factory=lambda: {VISUAL: "identity", STATE: "mean_std", ACTION: "min_max"})
    """Feature type -> normalization mode. ACTION must be min_max: tanh's [-1, 1] is mapped onto [min, max]."""
    hidden_dims: list[int] = field(default_factory=lambda: [256, 256])
    """Hidden layer widths of the actor's and each critic's MLP."""
    n_critics: int = 2
    """Q-networks; the TD target takes their minimum (clipped double Q)."""
    discount: float = 0.99
    """Discount factor gamma per step."""
    tau: float = 0.005
    """Soft target update rate: target <- tau * online + (1 - tau) * target, every update."""
    actor_lr: float = 3e-4
    """Adam learning rate of the actor."""
    critic_lr: float = 3e-4
    """Adam learning rate of the critics (and the image encoder)."""
    temperature_lr: float = 3e-4
    """Adam learning rate of log(alpha)."""
    init_temperature: float = 1.0
    """Initial entropy temperature alpha (HIL-SERL's docs advise 0.01 when a human intervenes)."""
    target_entropy: float | None = None
    """Target policy entropy, nats; None: -action_dim."""
    log_std_min: float = -5.0
    """Lower clamp of the Gaussian's log std."""
    log_std_max: float = 2.0
    """Upper clamp of the Gaussian's log std."""
    # Cameras
    encoder_channels: int = 32
    """Channels of each of the image encoder's 4 convolutions."""
    latent_dim: int = 50
    """Size of the encoder's output (images + state), fed to actor and critics."""
    augmentation_pad: int = 4
    """DrQ random shift: pad images by this many pixels (replicate) and crop back at a random offset; 0: off."""
    state_hidden: int = 64
    """Width of the state's projection when cameras are used (HIL-SERL's proprioception encoder)."""
    lr: float = 3e-4
    """Unused by SAC's own optimizers (see actor_lr/critic_lr/temperature_lr); kept for `robotlearn train`."""
    grad_clip_norm: float = 40.0
    """Clip each network's gradient norm to this."""

    # SAC executes one action per observation (no chunks).
    chunk_size: int = 1
    """Actions per inference (always 1 for SAC)."""
    n_action_steps: int = 1
    """Actions executed per inference (always 1 for SAC)."""

    def __post_init__(self):
        if self.normalization.get(ACTION) != "min_max":
            raise PolicyConfigError("SAC needs normalization ACTION=min_max (tanh's [-1, 1] maps onto [min, max])")
        if self.n_critics < 1:
            raise PolicyConfigError(f"--policy.n_critics={self.n_critics} must be >= 1")
        if not 0 < self.tau <= 1:
            raise PolicyConfigError(f"--policy.tau={self.tau} must be in (0, 1]")
        if self.chunk_size != 1 or self.n_action_steps != 1:
            raise PolicyConfigError("SAC acts one step at a time: chunk_size and n_action_steps must be 1")
