"""Training: the loop (`train`), resumable data order, optimizers and LR schedules, EMA, checkpoints."""

from robotlearn.training.train import DatasetConfig, TrainConfig, TrainResult, saved_train_config, train

__all__ = ["DatasetConfig", "TrainConfig", "TrainResult", "saved_train_config", "train"]
