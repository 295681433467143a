"""The scripted PushT expert as a chunking policy: `predict_action_chunk` plans `chunk_size` actions
from one observation by rolling a private copy of the simulator forward with the expert.

It observes the simulator's exact state and its bodies' velocities (`observation.environment_state`,
`observation.velocities`), so every chunk is a pure function of its observation: the same
observation gives the same chunk, whenever and wherever it is computed. A chunk is open-loop:
executed as planned it reproduces what the closed-loop expert would have done, as long as nothing
happened in between (the simulator is deterministic).
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np

from robotlearn.envs.pusht import ENV_STATE_KEY, PushTEnv
from robotlearn.envs.pusht_expert import PushTExpert

AGENT_VELOCITY_KEY = "observation.velocities"  # agent vx, vy; block vx, vy, angular velocity


def pusht_velocities(env) -> np.ndarray:
    """[agent vx, vy, block vx, vy, angular velocity] of a PushTEnv (px/s, rad/s), float64."""
    inner = env._env
    return np.array([*inner.agent.velocity, *inner.block.velocity, inner.block.angular_velocity], dtype=np.float64)


def _plan_of(expert: PushTExpert) -> tuple:
    """The planner's episode state (its physics copy is stateless between calls)."""
    return copy.deepcopy((expert.plan, expert.push, expert.done_hold))


def _set_plan(expert: PushTExpert, plan: tuple) -> None:
    expert.plan, expert.push, expert.done_hold = copy.deepcopy(plan)


class PushTExpertChunkPolicy:
    """The expert planner behind `predict_action_chunk(observation) -> (1, chunk_size, 2)`.

    Between calls it keeps the expert's plan (which push it is executing) as it stood after the
    first `n_action_steps` actions of the previous chunk, the ones a synchronous caller executes;
    `reset()` forgets it (call it at each episode start)."""

    def __init__(self, chunk_size: int = 16, n_action_steps: int = 8):
        import torch

        self.chunk_size = chunk_size
        self.twin = PushTEnv(max_steps=None)
        self.config = SimpleNamespace(
            type="pusht_expert",
            chunk_size=chunk_size,
            n_action_steps=n_action_steps,
            features={
                ENV_STATE_KEY: {"type": "STATE", "shape": [5]},
                AGENT_VELOCITY_KEY: {"type": "STATE", "shape": [5]},
                "action": {"type": "ACTION", "shape": [2]},
            },
        )
        self.device = torch.device("cpu")
        self.reset()

    def eval(self):
        return self

    def reset(self) -> None:
        self.expert = PushTExpert()
        self._plan_state = _plan_of(self.expert)

    def predict_action_chunk(self, observation: dict):
        """{environment_state (1, 5), velocities (1, 5)} -> targets (1, chunk_size, 2), float32."""
        import torch

        state = np.asarray(observation[ENV_STATE_KEY][0], dtype=np.float64)
        velocity = np.asarray(observation[AGENT_VELOCITY_KEY][0], dtype=np.float64)
        twin = self.twin
        twin.reset_to_state(state)
        inner = twin._env
        inner.agent.velocity = velocity[:2].tolist()
        inner.block.velocity = velocity[2:4].tolist()
        inner.block.angular_velocity = float(velocity[4])
        expert = self.expert
        _set_plan(expert, self._plan_state)
        actions = []
        for i in range(self.chunk_size):
            if i == self.config.n_action_steps:
                self._plan_state = _plan_of(expert)  # the plan after the actions a sync caller executes
            target = np.asarray(expert.act(twin.get_state(), twin.agent_velocity(), twin.coverage()), np.float32)
            twin.step(target)
            actions.append(target)
        return torch.from_numpy(np.stack(actions))[None]

    def close(self) -> None:
        self.twin.close()
