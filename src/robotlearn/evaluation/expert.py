"""The scripted PushT expert behind the policy interface, so `evaluate_policy` can score it on the
same seeds as a trained policy."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from robotlearn.envs.pusht import ENV_STATE_KEY, PushTEnv
from robotlearn.envs.pusht_feedback_expert import make_pusht_expert


class PushTExpertPolicy:
    """A scripted PushT expert as a policy (`reset`, `select_action`, `config.features`).

    `kind` is one of `robotlearn.envs.pusht_feedback_expert.PUSHT_EXPERTS`: `planner` (the default)
    or `feedback`. The experts read the simulator's state, agent velocity and goal coverage, but a
    policy only sees observations. It asks for `observation.environment_state` (the exact sim state) and
    keeps a private twin of the simulator, started from that state and stepped with the same
    actions: PushT is deterministic, so the twin tracks the evaluated env exactly and supplies
    the velocity and coverage. If the twin ever disagrees with the observed state it is re-synced
    (counted in `resyncs`)."""

    def __init__(self, kind: str = "planner"):
        import torch

        self.expert = make_pusht_expert(kind)
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


class LangPushTExpertPolicy:
    """The language PushT expert (`envs/lang_pusht_expert.py`) as a policy: it sees the simulator's
    state (`observation.environment_state`, 11 values) and the instruction (`observation["task"]`),
    from which it recovers the task by looking the sentence up among every template's wording
    (training and held-out). It scores the benchmark's ceiling on the same seeds as a trained policy."""

    def __init__(self):
        import torch

        from robotlearn.envs.lang_pusht import TASKS, instructions
        from robotlearn.envs.lang_pusht_expert import LangPushTExpert

        self.expert = LangPushTExpert()
        self.task_of = {text: name for name in TASKS for p in ("train", "heldout") for text in instructions(name, p)}
        self.config = SimpleNamespace(features={ENV_STATE_KEY: {"type": "STATE", "shape": [11]}})
        self.device = torch.device("cpu")

    def eval(self):
        return self

    def reset(self) -> None:
        self.expert.reset()

    def select_action(self, observation: dict):
        """{environment_state (1, 11), "task": [instruction]} -> (1, 2) target position.
        KeyError naming the instruction if it is none of the benchmark's."""
        import torch

        from robotlearn.envs.lang_pusht import COLORS

        task = observation["task"]
        task = task if isinstance(task, str) else task[0]
        if task not in self.task_of:
            raise KeyError(f"LangPushTExpertPolicy: {task!r} is not a lang_pusht instruction")
        state = observation[ENV_STATE_KEY][0].detach().cpu().numpy().astype(np.float64)
        blocks = {c: state[2 + 3 * i : 4 + 3 * i] for i, c in enumerate(COLORS)}
        view = SimpleNamespace(  # what LangPushTExpert.act reads from the env
            task_name=self.task_of[task], agent_position=lambda: state[:2], block_position=lambda c: blocks[c]
        )
        return torch.from_numpy(self.expert.act(view)).reshape(1, 2)


class MetaWorldExpertPolicy:
    """Meta-World's scripted policies as one policy: the instruction (`observation["task"]`) names
    the task, whose scripted policy maps the (39,) state to the action. The MT10 ceiling, scored on
    the same seeds as a trained policy."""

    def __init__(self):
        import torch

        from robotlearn.envs.meta_world import MT10_INSTRUCTIONS, STATE_DIM, STATE_KEY

        self.task_of = {text: name for name, text in MT10_INSTRUCTIONS.items()}
        self.config = SimpleNamespace(features={STATE_KEY: {"type": "STATE", "shape": [STATE_DIM]}})
        self.device = torch.device("cpu")

    def eval(self):
        return self

    def reset(self) -> None:
        """Nothing to clear: the scripted policies are stateless."""

    def select_action(self, observation: dict):
        """{observation.state (1, 39), "task": [instruction]} -> (1, 4) action. KeyError for an unknown instruction."""
        import torch

        from robotlearn.envs.meta_world import STATE_KEY, scripted_action

        task = observation["task"]
        task = task if isinstance(task, str) else task[0]
        if task not in self.task_of:
            raise KeyError(f"MetaWorldExpertPolicy: {task!r} is not an MT10 instruction")
        state = observation[STATE_KEY][0].detach().cpu().numpy()
        return torch.from_numpy(scripted_action(self.task_of[task], state)).reshape(1, 4)
