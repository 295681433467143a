"""`robotlearn train-reward-classifier`: learn success from a dataset's labels, to use as the reward.

    robotlearn record --robot.type=sim_pusht --teleop.type=scripted_pusht --dataset.rewards=true \\
        --dataset.end_on_success=false --dataset.root=data/pusht_success ...
    robotlearn train-reward-classifier --dataset_root=data/pusht_success --output_dir=outputs/reward

Trains a small CNN on the frames' `next.success` labels (episodes split into training and held-out),
prints the held-out accuracy and writes config.json + model.safetensors + metrics.json. See docs/rl.md.
"""

from __future__ import annotations

from robotlearn.configs import parse_config
from robotlearn.rl.reward_classifier import TrainRewardClassifierConfig, train_reward_classifier

CONFIG = TrainRewardClassifierConfig


def main(argv: list[str]) -> int:
    cfg = parse_config(CONFIG, argv, prog="robotlearn train-reward-classifier", description=__doc__)
    if not cfg.dataset_root:
        from robotlearn.errors import ConfigError

        raise ConfigError("--dataset_root is required: a LeRobotDataset with camera frames and next.success")
    _, metrics = train_reward_classifier(
        cfg, on_log=lambda step, loss: print(f"step {step}: loss {loss:.4f}", flush=True)
    )
    held = metrics["held_out"]
    print(
        f"held-out accuracy {100 * held['accuracy']:.1f}% on {held['frames']} frames of "
        f"{len(metrics['held_out_episodes'])} episodes (success recall {100 * held['success_recall']:.1f}%, "
        f"failure recall {100 * held['failure_recall']:.1f}%); saved to {cfg.output_dir}",
        flush=True,
    )
    return 0
