"""One observation -> policy batch conversion, used by evaluation, recording and the policy server.

Robots and environments give unbatched numpy values: images (H, W, C) uint8, vectors (D,).
Policies take batches of one: images (1, C, H, W) float in [0, 1], vectors (1, D) float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from robotlearn.policies.policy import VISUAL, PolicyConfigError


def _to_tensor(value, is_image: bool):
    import torch

    arr = np.asarray(value)
    if is_image:
        if arr.ndim != 3:
            raise PolicyConfigError(f"expected an (H, W, C) image, got shape {arr.shape}")
        # copy: the caller's buffer (a camera frame) may be reused for the next capture
        return torch.from_numpy(np.array(arr, copy=True)).permute(2, 0, 1).float().div_(255.0)
    return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32).reshape(-1))


def observation_to_batch(
    observation: dict[str, Any], features: dict[str, dict] | None = None, device=None, task: str | None = None
) -> dict[str, Any]:
    """Unbatched observation -> a batch of one for `select_action`.

    Args:
        observation: key -> numpy value (images (H, W, C) uint8, vectors (D,)).
        features: the policy's `config.features` (key -> {"type", "shape"}). With it only the
            keys the policy uses are converted; a policy trained on another single camera name
            (e.g. `observation.image`) gets the observation's single camera. Without it every key
            is converted (3-D arrays as images).
        device: torch device for the tensors (None: CPU).
        task: the instruction, passed as `batch["task"] = [task]`.

    Raises PolicyConfigError when the policy needs a key the observation lacks.
    """
    if features is None:
        wanted = {key: np.asarray(value).ndim == 3 for key, value in observation.items()}
        sources = {key: key for key in wanted}
    else:
        images = [k for k, v in observation.items() if isinstance(v, np.ndarray) and v.ndim == 3]
        wanted, sources = {}, {}
        for key, ft in features.items():
            if key == "action":
                continue
            is_image = ft["type"] == VISUAL
            if key in observation:
                sources[key] = key
            elif is_image and len(images) == 1:
                sources[key] = images[0]
            else:
                raise PolicyConfigError(f"the policy needs {key!r} but the observation provides {sorted(observation)}")
            wanted[key] = is_image
    batch: dict[str, Any] = {}
    for key, is_image in wanted.items():
        tensor = _to_tensor(observation[sources[key]], is_image).unsqueeze(0)
        batch[key] = tensor.to(device) if device is not None else tensor
    if task is not None:
        batch["task"] = [task]
    return batch
