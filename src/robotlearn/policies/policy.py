"""The `Policy` interface every policy implements, plus the config fields they share.

A policy is an `nn.Module` with five entry points:

    loss, info = policy(batch)            # training: batch from a LeRobotDataset DataLoader
    action = policy.select_action(obs)    # inference: obs dict of (B, ...) tensors -> (B, action_dim)
    chunk = policy.predict_action_chunk(obs)   # the whole planned chunk (B, n, action_dim), no queue
    policy.reset()                        # call at the start of each episode (clears queues/history)
    policy.delta_timestamps(fps)          # which time windows (seconds) the dataset must return
    policy.save_pretrained(dir); Policy.from_pretrained(dir)   # config.json + model.safetensors

Features are described in the config as `{key: {"type": "VISUAL"|"STATE"|"ACTION", "shape": [...]}}`
(images as (C, H, W)), filled from the dataset's `meta.features` by `features_from_dataset`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from robotlearn.errors import ConfigError, PolicyError
from robotlearn.policies.normalize import Normalizer

VISUAL, STATE, ACTION = "VISUAL", "STATE", "ACTION"
ACTION_KEY = "action"
STATE_KEY = "observation.state"
# Optional input of `predict_action_chunk`: (B, d, A) actions, in the dataset's units, that the robot
# executes for the chunk's first d ticks whatever the policy says (they were committed while it ran);
# policies whose config has `max_action_prefix > 0` plan the rest of the chunk to continue them.
ACTION_PREFIX_KEY = "action_prefix"
DEFAULT_STATE_KEYS = ("observation.state", "observation.environment_state")
NOT_INPUTS_BY_DEFAULT = ("observation.capture_time",)


class PolicyConfigError(ConfigError, PolicyError):
    """A policy config is invalid or does not fit the dataset."""


class PolicyNotFoundError(PolicyError, FileNotFoundError):
    """A policy path holds no saved policy (config.json + model.safetensors)."""


@dataclass
class PolicyConfig:
    """Fields every policy config has. Subclasses add the model's hyper-parameters."""

    __registry__ = "robotlearn.policies:POLICIES"  # `--policy.type=NAME` picks NAME's config class

    type: str = ""
    """Policy name (act, diffusion)."""
    input_features: list[str] | None = None
    """Observation keys to use, e.g. ["observation.state"]. Default: the cameras + observation.state, or
    observation.state + observation.environment_state when the dataset has no camera."""
    features: dict = field(default_factory=dict)
    """key -> {type, shape}; filled from the dataset, rarely set by hand (JSON)."""
    normalization: dict = field(default_factory=lambda: {VISUAL: "mean_std", STATE: "mean_std", ACTION: "mean_std"})
    """Feature type -> normalization mode (mean_std, min_max, identity), as JSON."""
    pretrained_backbone_path: str | None = None
    """Local safetensors file with torchvision ResNet-18 weights (optional; needs backbone_width=64)."""
    backbone_width: int = 64
    """Channels of the ResNet-18's first stage (64: the standard network; 16 or 32: the same layers, about 12x or
    3.5x cheaper, for training on a CPU)."""
    # Optimization defaults that suit this policy; `robotlearn train --lr` etc. override them.
    lr: float = 1e-4
    """AdamW learning rate."""
    weight_decay: float = 1e-4
    """AdamW weight decay."""
    grad_clip_norm: float = 10.0
    """Clip the gradient's global norm to this."""
    scheduler: str = "constant"
    """LR schedule: constant or cosine (with warmup)."""
    warmup_steps: int = 0
    """Linear LR warmup steps."""
    use_ema: bool = False
    """Keep an exponential moving average of the weights."""
    relative_actions: bool = False
    """Learn each action as its offset from the current observation.state (action - state, same units), added
    back at inference; needs an action the size of the state (PushT: target and agent position, px)."""

    @property
    def image_keys(self) -> list[str]:
        return [k for k, f in self.features.items() if f["type"] == VISUAL]

    @property
    def state_keys(self) -> list[str]:
        return [k for k, f in self.features.items() if f["type"] == STATE]

    @property
    def action_dim(self) -> int:
        return int(self.features[ACTION_KEY]["shape"][0])

    @property
    def action_prefix_capacity(self) -> int:
        """Longest ACTION_PREFIX_KEY that `predict_action_chunk` conditions on (0: it takes none)."""
        return int(getattr(self, "max_action_prefix", 0))

    def to_dict(self) -> dict:
        return json.loads(json.dumps(dataclasses.asdict(self)))


def features_from_dataset(dataset_features: dict, input_features: list[str] | None = None) -> dict:
    """Picks the policy's features out of a dataset's `meta.features`.

    Cameras (dtype image/video, stored (H, W, C)) become VISUAL with shape (C, H, W); 1-D numeric
    `observation.*` keys become STATE; `action` becomes ACTION. Raises PolicyConfigError if an
    requested key is absent or the dataset has no action.
    """
    if ACTION_KEY not in dataset_features:
        raise PolicyConfigError(f"the dataset has no {ACTION_KEY!r} feature; its features: {sorted(dataset_features)}")
    available = {}
    for key, ft in dataset_features.items():
        if not key.startswith("observation."):
            continue
        shape = list(ft["shape"])
        if ft["dtype"] in ("image", "video"):
            names = ft.get("names") or ["height", "width", "channels"]
            if names and names[0] in ("channels", "channel", "c"):
                c, h, w = shape
            else:
                h, w, c = shape
            available[key] = {"type": VISUAL, "shape": [c, h, w]}
        elif len(shape) == 1 and ft["dtype"] not in ("string", "bool"):
            available[key] = {"type": STATE, "shape": shape}
    if input_features is None:
        # Default: the cameras and the robot state. The simulator's full scene state is added only
        # when there is no camera (a state-only policy needs to see the object); bookkeeping such
        # as observation.capture_time is never an input unless asked for.
        cameras = [k for k, f in available.items() if f["type"] == VISUAL]
        keys = cameras + [k for k in DEFAULT_STATE_KEYS[: 1 if cameras else 2] if k in available]
        if not keys:
            keys = [k for k in available if k not in NOT_INPUTS_BY_DEFAULT]
        chosen = {k: available[k] for k in keys}
    else:
        missing = [k for k in input_features if k not in available]
        if missing:
            raise PolicyConfigError(
                f"--policy.input_features: {missing} not usable in the dataset; available: {sorted(available)}"
            )
        chosen = {k: available[k] for k in input_features}
    if not chosen:
        raise PolicyConfigError(
            f"no observation features to condition on; dataset features: {sorted(dataset_features)}"
        )
    chosen[ACTION_KEY] = {"type": ACTION, "shape": list(dataset_features[ACTION_KEY]["shape"])}
    return chosen


class Policy(nn.Module):
    """Base class: holds the config and the normalizer; subclasses implement the model.

    Subclasses set `config_class` and `name`, and implement `forward`, `select_action`,
    `predict_action_chunk`, `reset`, `delta_timestamps`.
    """

    config_class: type = PolicyConfig
    name: str = ""
    # Dataset columns a training batch carries besides the features, key -> per-sample shape
    # (SAC: the reward and done flag of each transition, "next.reward" and "next.done").
    extra_batch_keys: dict[str, list[int]] = {}

    def __init__(self, config: PolicyConfig, stats: dict | None = None):
        super().__init__()
        if ACTION_KEY not in config.features:
            raise PolicyConfigError("config.features has no 'action'; build the policy with make_policy(dataset.meta)")
        self.config = config
        shapes, modes = {}, {}
        for key, ft in config.features.items():
            shapes[key] = (ft["shape"][0], 1, 1) if ft["type"] == VISUAL else tuple(ft["shape"])
            modes[key] = config.normalization.get(ft["type"], "identity")
        self.normalizer = Normalizer(shapes, modes, stats)

    # --- interface -------------------------------------------------------------------------
    def forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict]:
        raise NotImplementedError

    @torch.no_grad()
    def select_action(self, observation: dict[str, torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def predict_action_chunk(self, observation: dict[str, torch.Tensor]) -> torch.Tensor:
        """One observation {key: (B, ...)} -> the chunk of actions planned from it, (B, n, action_dim),
        unnormalized; action 0 is for the observation's own time step, action i for i steps later.

        `select_action` executes the first `n_action_steps` of exactly this chunk. Unlike it, this
        keeps no action queue, so a caller (the policy server) decides how many actions to execute.
        A policy with `config.action_prefix_capacity > 0` also reads `observation[ACTION_PREFIX_KEY]`
        ((B, d, A), d <= the capacity): the chunk's first d actions are those, the rest continues them."""
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def delta_timestamps(self, fps: int) -> dict[str, list[float]]:
        raise NotImplementedError

    # --- helpers -------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def prepare_batch(self, batch: dict) -> dict[str, torch.Tensor]:
        """Moves the tensors the policy uses to its device, uint8 images to float [0, 1], and normalizes."""
        out = {}
        for key, value in batch.items():
            if not isinstance(value, torch.Tensor) or not (key in self.config.features or key.endswith("_is_pad")):
                continue
            value = value.to(self.device, non_blocking=True)
            if key in self.config.features and self.config.features[key]["type"] == VISUAL:
                value = value.float() / 255.0 if value.dtype == torch.uint8 else value.float()
            elif not key.endswith("_is_pad"):
                value = value.float()
            out[key] = value
        if self.config.relative_actions and ACTION_KEY in out:
            out[ACTION_KEY] = out[ACTION_KEY] - self._current_state(out)[:, None]
        return self.normalizer(out)

    def _current_state(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The (B, D) observation.state of the current step in `batch` ((B, D) or a history (B, T, D), last = now)."""
        if STATE_KEY not in batch:
            raise PolicyConfigError(f"relative_actions needs {STATE_KEY!r} among the policy's inputs")
        state = batch[STATE_KEY]
        return state[:, -1] if state.ndim == 3 else state

    def unnormalize_actions(self, actions: torch.Tensor, normalized_obs: dict[str, torch.Tensor]) -> torch.Tensor:
        """Model output (B, T, A), normalized -> actions in the dataset's units; with `relative_actions`,
        the current state of `normalized_obs` (what `prepare_batch` returned) is added back."""
        actions = self.normalizer.unnormalize(ACTION_KEY, actions)
        if self.config.relative_actions:
            state = self.normalizer.unnormalize(STATE_KEY, self._current_state(normalized_obs))
            actions = actions + state[:, None]
        return actions

    def check_observation(self, observation: dict) -> None:
        missing = [k for k in self.config.features if k != ACTION_KEY and k not in observation]
        if missing:
            raise PolicyConfigError(
                f"observation lacks {missing} (the policy was trained on {sorted(self.config.features)}); "
                f"got keys {sorted(observation)}"
            )

    # --- saving --------------------------------------------------------------------------
    def save_pretrained(self, directory: str | Path) -> Path:
        """Writes `config.json` and `model.safetensors` (weights + normalization stats) into `directory`."""
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").write_text(json.dumps(self.config.to_dict(), indent=2))
        state = {k: v.detach().cpu().contiguous() for k, v in self.state_dict().items()}
        save_file(state, str(directory / "model.safetensors"))
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path, device: str | torch.device = "cpu") -> Policy:
        """Rebuilds a policy saved by `save_pretrained`. Raises PolicyNotFoundError / PolicyConfigError."""
        from safetensors.torch import load_file

        directory = Path(directory)
        cfg_path, weights_path = directory / "config.json", directory / "model.safetensors"
        for p in (cfg_path, weights_path):
            if not p.is_file():
                raise PolicyNotFoundError(f"{p} not found: pass the pretrained_model directory written by training")
        config = config_from_dict(cls.config_class, json.loads(cfg_path.read_text()), source=str(cfg_path))
        policy = cls(config)
        policy.load_state_dict(load_file(str(weights_path)))
        return policy.to(device).eval()


def config_from_dict(config_class: type, data: dict, source: str = "config") -> PolicyConfig:
    """Builds a policy config from a JSON dict (a saved config.json, or keyword overrides) the one way
    every config is loaded (`robotlearn.configs.config_from_dict`): unknown keys and invalid values
    raise ConfigError naming `source` and the field."""
    from robotlearn.configs import config_from_dict as build

    return build(config_class, dict(data), where=source)
