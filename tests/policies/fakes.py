"""A dataset `.meta` stand-in for policy tests: features and stats of a 2-D PushT-like dataset."""

from types import SimpleNamespace

import numpy as np

IMG = 48  # small images keep the ResNet cheap on CPU (feature map 2x2)


def fake_meta(with_image: bool) -> SimpleNamespace:
    features = {
        "observation.state": {"dtype": "float32", "shape": [2], "names": ["x", "y"]},
        "action": {"dtype": "float32", "shape": [2], "names": ["x", "y"]},
        "next.reward": {"dtype": "float32", "shape": [1], "names": None},
    }
    stats = {
        "observation.state": {
            "mean": np.array([200.0, 300.0]),
            "std": np.array([50.0, 80.0]),
            "min": np.array([10.0, 20.0]),
            "max": np.array([500.0, 490.0]),
        },
        "action": {
            "mean": np.array([210.0, 290.0]),
            "std": np.array([60.0, 70.0]),
            "min": np.array([0.0, 5.0]),
            "max": np.array([510.0, 500.0]),
        },
    }
    if with_image:
        features["observation.images.top"] = {
            "dtype": "video",
            "shape": [IMG, IMG, 3],
            "names": ["height", "width", "channels"],
        }
        stats["observation.images.top"] = {
            "mean": np.full((3, 1, 1), 0.5),
            "std": np.full((3, 1, 1), 0.25),
            "min": np.zeros((3, 1, 1)),
            "max": np.ones((3, 1, 1)),
        }
    return SimpleNamespace(features=features, stats=stats, fps=10)
