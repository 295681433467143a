"""Policies the server can serve without a checkpoint (`--policy.builtin=NAME`), for PushT:

- `pusht_expert`: the scripted expert as a chunking policy (`expert_chunks.py`), the success reference.
- `hold`: every action of the chunk is the observed agent position (the robot stays put); costs
  nothing, so timing it measures the inference stack's own overhead.
"""

from __future__ import annotations

from types import SimpleNamespace

from robotlearn.errors import ConfigError

PUSHT_STATE = "observation.state"
PUSHT_IMAGE = "observation.images.top"


class HoldChunkPolicy:
    """(1, 2) agent position (+ a (1, 3, 96, 96) image it ignores) -> (1, chunk_size, 2) copies of it."""

    def __init__(self, chunk_size: int = 16, n_action_steps: int = 8, image_size: int = 96):
        import torch

        self.config = SimpleNamespace(
            type="hold",
            chunk_size=chunk_size,
            n_action_steps=n_action_steps,
            features={
                PUSHT_STATE: {"type": "STATE", "shape": [2]},
                PUSHT_IMAGE: {"type": "VISUAL", "shape": [3, image_size, image_size]},
                "action": {"type": "ACTION", "shape": [2]},
            },
        )
        self.device = torch.device("cpu")

    def eval(self):
        return self

    def reset(self) -> None:
        pass

    def predict_action_chunk(self, observation: dict):
        state = observation[PUSHT_STATE]
        return state[:, None, :].expand(-1, self.config.chunk_size, -1).clone()


BUILTIN = ("pusht_expert", "hold")


def make_builtin_policy(name: str, chunk_size: int = 16, n_action_steps: int = 8):
    """Builds a built-in policy by name. Raises ConfigError for an unknown name."""
    if name == "hold":
        return HoldChunkPolicy(chunk_size, n_action_steps)
    if name == "pusht_expert":
        from robotlearn.inference.expert_chunks import PushTExpertChunkPolicy

        return PushTExpertChunkPolicy(chunk_size, n_action_steps)
    raise ConfigError(f"--policy.builtin={name!r} is not a built-in policy; choose one of {list(BUILTIN)}")
