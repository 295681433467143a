"""Soft Actor-Critic (Haarnoja et al. 2018) with DrQ image augmentation (Kostrikov et al. 2020)."""

from robotlearn.policies.sac.config import SACConfig

__all__ = ["SACConfig"]
