"""Reinforcement learning: a uint8 replay buffer, online SAC on gymnasium tasks.

from robotlearn.rl import ReplayBuffer, SACTrainConfig, train_sac
"""

from robotlearn.rl.buffer import ReplayBuffer, mixed_batch

__all__ = ["ReplayBuffer", "mixed_batch"]
