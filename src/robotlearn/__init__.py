"""robotlearn: end-to-end robot learning — datasets, recording and policies in plain PyTorch."""

__version__ = "0.1.0"
