"""The scripted PushT expert behind the policy interface, so `evaluate_policy` can score it on the
same seeds as a trained policy."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from robotlearn.envs.pusht import ENV_STATE_KEY, PushTEnv
from robotlearn.envs.pusht_expert import PushTExpert


class PushTExpertPolicy:
    """The expert planner as a policy (`reset`, `select_action`, `config.features`).

    The expert plans from the simulator's state, agent velocity and goal coverage, but a policy
    only sees observations. It asks for `observation.environment_state` (the exact sim state) and
    keeps a private twin of the simulator, started from that state and stepped with the same
    actions: PushT is deterministic, so the twin tracks the evaluated env exactly and supplies
    the velocity and coverage. If the twin ever disagrees with the observed state it is re-synced
    (counted in `resyncs`)."""

    def __init__(self):
        import torch

        self.expert = PushTExpert()
        self.twin = PushTEnv(max_steps=None)
        self.config = SimpleNamespace(features={ENV_STATE_KEY: {"type": "STATE", "shape": [5]}})
        self.device = torch.device("cpu")
        self.resyncs = 0
        self._started = False

    def eval(self):
        return self

    def reset(self) -> None:
        self.expert.reset()
        self._started = False

    def select_action(self, observation: dict):
        """(1, 5) environment state -> (1, 2) target position."""
        import torch

        state = observation[ENV_STATE_KEY][0].detach().cpu().numpy().astype(np.float32)
        if not self._started or not np.array_equal(self.twin.get_state().astype(np.float32), state):
            self.resyncs += int(self._started)
            self.twin.reset_to_state(state)
            self._started = True
        twin = self.twin
        target = np.asarray(self.expert.act(twin.get_state(), twin.agent_velocity(), twin.coverage()), np.float32)
        twin.step(target)
        return torch.from_numpy(target).reshape(1, 2)

    def close(self) -> None:
        self.twin.close()
