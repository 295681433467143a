"""A success classifier trained from a recorded dataset's labels, usable as the reward (HIL-SERL).

    robotlearn train-reward-classifier --dataset.root=data/pusht_success --output_dir=outputs/reward
    classifier = RewardClassifier.from_pretrained("outputs/reward")
    p = classifier.success_probability({"observation.images.top": frames})     # (B,) in [0, 1]

A small CNN written here (no hub weights): per camera, 4 convolutions of 3x3 with stride 2 (16, 32,
64, 64 channels, ReLU), global average pooling, the cameras' features concatenated, one hidden
layer, one logit. Labels come from `next.success` (a simulated robot records it with
`--dataset.rewards=true`; record with `--dataset.end_on_success=false` so successes last). Episodes
are split into training and held-out sets (by episode, never by frame), classes are balanced in
every batch, and the held-out accuracy is reported. Saved as config.json + model.safetensors.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from robotlearn.errors import ConfigError

LABEL_KEY = "next.success"


@dataclass
class RewardClassifierConfig:
    image_keys: list[str] = field(default_factory=lambda: ["observation.images.top"])
    """Cameras the classifier looks at."""
    channels: list[int] = field(default_factory=lambda: [16, 32, 64, 64])
    """Output channels of the 4 stride-2 convolutions."""
    hidden: int = 64
    """Width of the hidden layer after pooling."""
    threshold: float = 0.5
    """Success when the probability exceeds this (the reward is then 1)."""


class RewardClassifier(nn.Module):
    def __init__(self, config: RewardClassifierConfig):
        super().__init__()
        self.config = config
        self.encoders = nn.ModuleDict()
        for key in config.image_keys:
            layers, c = [], 3
            for out in config.channels:
                layers += [nn.Conv2d(c, out, 3, stride=2, padding=1), nn.ReLU()]
                c = out
            self.encoders[key.replace(".", "_")] = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Sequential(
            nn.Linear(c * len(config.image_keys), config.hidden), nn.ReLU(), nn.Linear(config.hidden, 1)
        )

    def forward(self, images: dict[str, torch.Tensor]) -> torch.Tensor:
        """{camera: (B, 3, H, W) uint8 or float in [0, 1]} -> logits (B,)."""
        parts = []
        for key in self.config.image_keys:
            x = images[key]
            x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
            parts.append(self.encoders[key.replace(".", "_")](x - 0.5))
        return self.head(torch.cat(parts, dim=-1)).squeeze(-1)

    @torch.no_grad()
    def success_probability(self, images: dict[str, torch.Tensor]) -> torch.Tensor:
        return torch.sigmoid(self(images))

    @torch.no_grad()
    def reward(self, images: dict[str, torch.Tensor]) -> torch.Tensor:
        """(B,) 1.0 where the classifier sees success, else 0.0: the reward it stands for."""
        return (self.success_probability(images) > self.config.threshold).float()

    def save_pretrained(self, directory: str | Path) -> Path:
        from safetensors.torch import save_file

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "config.json").write_text(
            json.dumps({"type": "reward_classifier", **asdict(self.config)}, indent=2)
        )
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(directory / "model.safetensors"))
        return directory

    @classmethod
    def from_pretrained(cls, directory: str | Path) -> RewardClassifier:
        from safetensors.torch import load_file

        from robotlearn.configs import config_from_dict

        directory = Path(directory)
        path = directory / "config.json"
        if not path.is_file() or not (directory / "model.safetensors").is_file():
            raise ConfigError(f"{directory}: no reward classifier (config.json + model.safetensors) there")
        data = json.loads(path.read_text())
        data.pop("type", None)
        model = cls(config_from_dict(RewardClassifierConfig, data, where=str(path)))
        model.load_state_dict(load_file(str(directory / "model.safetensors")))
        return model.eval()


@dataclass
class TrainRewardClassifierConfig:
    dataset_root: str = ""
    """LeRobotDataset with camera frames and a next.success column."""
    output_dir: str = "outputs/reward_classifier"
    """Where config.json, model.safetensors and metrics.json go."""
    classifier: RewardClassifierConfig = field(default_factory=RewardClassifierConfig)
    """The model (--classifier.image_keys, --classifier.channels, ...)."""
    held_out_fraction: float = 0.2
    """Share of episodes kept out of training and used to measure accuracy."""
    steps: int = 1500
    """Optimizer steps."""
    batch_size: int = 64
    """Frames per step, half of them successes."""
    lr: float = 1e-3
    """Adam learning rate."""
    seed: int = 0
    """Seed of the episode split, the sampling and the weights."""


def load_labelled_frames(root, image_keys: list[str]) -> tuple[dict, np.ndarray, np.ndarray]:
    """({camera: (N, 3, H, W) uint8}, labels (N,) bool, episode index (N,)) of every frame but each
    episode's first.

    A frame's `next.success` is what the task reported after that frame's action, so it describes the
    next frame's picture: frame t's image is labelled with frame t-1's `next.success`. (Pairing a
    picture with its own frame's label would teach the classifier to fire one step before success;
    as a reward it then ends episodes a step short of the goal.)"""
    from robotlearn.rl.dataset_io import dataset_features, episode_arrays

    features = dataset_features(root)
    missing = [k for k in [*image_keys, LABEL_KEY] if k not in features]
    if missing:
        raise ConfigError(
            f"{root}: no {missing} in the dataset (has {sorted(features)}); record a simulated robot with "
            "--dataset.rewards=true (and --dataset.end_on_success=false)"
        )
    images, labels, episodes = {k: [] for k in image_keys}, [], []
    for ep, arrays in episode_arrays(root, [*image_keys, LABEL_KEY]):
        for k in image_keys:
            images[k].append(arrays[k][1:])
        labels.append(np.asarray(arrays[LABEL_KEY]).reshape(-1).astype(bool)[:-1])
        episodes.append(np.full(len(labels[-1]), ep))
    return {k: np.concatenate(v) for k, v in images.items()}, np.concatenate(labels), np.concatenate(episodes)


def accuracy(model: RewardClassifier, images: dict, labels: np.ndarray, batch: int = 256) -> dict:
    """Accuracy, and the recall of each class, of `model` on frames `images` with `labels`."""
    predicted = []
    for i in range(0, len(labels), batch):
        chunk = {k: torch.from_numpy(v[i : i + batch]) for k, v in images.items()}
        predicted.append(model.reward(chunk).numpy() > 0.5)
    predicted = np.concatenate(predicted)
    return {
        "accuracy": float(np.mean(predicted == labels)),
        "success_recall": float(np.mean(predicted[labels])) if labels.any() else float("nan"),
        "failure_recall": float(np.mean(~predicted[~labels])) if (~labels).any() else float("nan"),
        "frames": int(len(labels)),
        "successes": int(labels.sum()),
    }


def train_reward_classifier(cfg: TrainRewardClassifierConfig, on_log=None) -> tuple[RewardClassifier, dict]:
    """Trains on the training episodes, measures the held-out ones, saves to cfg.output_dir."""
    images, labels, episodes = load_labelled_frames(cfg.dataset_root, cfg.classifier.image_keys)
    rng = np.random.default_rng(cfg.seed)
    unique = rng.permutation(np.unique(episodes))
    n_held = max(1, int(round(len(unique) * cfg.held_out_fraction)))
    held = np.isin(episodes, unique[:n_held])
    train = ~held
    if labels[train].all() or not labels[train].any():
        raise ConfigError(f"{cfg.dataset_root}: the training episodes need both successful and unsuccessful frames")
    torch.manual_seed(cfg.seed)
    model = RewardClassifier(cfg.classifier)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    positives, negatives = np.flatnonzero(train & labels), np.flatnonzero(train & ~labels)
    half = cfg.batch_size // 2
    model.train()
    for step in range(cfg.steps):
        idx = np.concatenate([rng.choice(positives, half), rng.choice(negatives, cfg.batch_size - half)])
        batch = {k: torch.from_numpy(v[idx]) for k, v in images.items()}
        target = torch.from_numpy(labels[idx].astype(np.float32))
        loss = nn.functional.binary_cross_entropy_with_logits(model(batch), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if on_log is not None and (step + 1) % 100 == 0:
            on_log(step + 1, float(loss))
    model.eval()
    held_images = {k: v[held] for k, v in images.items()}
    metrics = {
        "held_out": accuracy(model, held_images, labels[held]),
        "train": accuracy(model, {k: v[train] for k, v in images.items()}, labels[train]),
        "held_out_episodes": sorted(int(e) for e in unique[:n_held]),
    }
    out = model.save_pretrained(cfg.output_dir)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return model, metrics
