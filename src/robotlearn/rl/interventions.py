"""Human interventions for the RL actor, and the scripted PushT expert standing in for a human.

An intervention source is a callable `intervene(env, observation, policy_action) -> action | None`:
an action replaces the policy's for this step (the step is recorded as an intervention, with the
executed action), None lets the policy act.

`ScriptedPushTIntervention` behaves like the human of HIL-SERL's protocol: it watches the policy
and takes over when the episode stalls (coverage of the goal has not improved for `patience`
steps), drives for `takeover_steps` steps with the scripted expert, then hands back. It never
intervenes on more than `budget` of the actor's steps so far, and its budget falls linearly to 0
over `decay_steps` actor steps, so interventions are frequent early and rare late.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class InterventionConfig:
    type: str | None = None
    """Intervention source: scripted_pusht (the scripted expert as the human), or None."""
    budget: float = 0.15
    """Largest share of actor steps an intervention may drive (falls to 0 over decay_steps)."""
    decay_steps: int = 20_000
    """Actor steps over which the budget falls linearly to 0."""
    patience: int = 20
    """Steps without coverage progress before taking over."""
    takeover_steps: int = 15
    """Steps driven per intervention."""


class ScriptedPushTIntervention:
    def __init__(self, config: InterventionConfig):
        from robotlearn.envs.pusht_expert import PushTExpert

        self.config = config
        self.expert = PushTExpert()
        self.steps = 0  # actor steps seen
        self.driven = 0  # steps the expert drove
        self._left = 0  # steps left in the current takeover
        self._best = 0.0
        self._since_progress = 0
        self._episode_steps = 0

    def budget_now(self) -> float:
        c = self.config
        return c.budget * max(0.0, 1.0 - self.steps / max(1, c.decay_steps))

    def new_episode(self) -> None:
        self._left, self._best, self._since_progress, self._episode_steps = 0, 0.0, 0, 0

    def __call__(self, env, observation, policy_action):
        if env.steps == 0 and self._episode_steps:  # the actor reset the env
            self.new_episode()
        self.steps += 1
        self._episode_steps += 1
        coverage = env.coverage()
        if coverage > self._best + 0.01:
            self._best, self._since_progress = coverage, 0
        else:
            self._since_progress += 1
        if self._left == 0 and self._since_progress >= self.config.patience:
            if self.driven + self.config.takeover_steps <= self.budget_now() * self.steps:
                self._left = self.config.takeover_steps
                self._since_progress = 0
                self.expert.reset()  # re-plan from where the policy left the scene
        if self._left == 0:
            return None
        self._left -= 1
        self.driven += 1
        return self.expert.act_env(env)


INTERVENTIONS = {"scripted_pusht": ScriptedPushTIntervention}


def make_intervention(config: InterventionConfig):
    """The intervention source `config.type` names (None: no interventions). Raises ConfigError."""
    if config.type is None:
        return None
    if config.type not in INTERVENTIONS:
        from robotlearn.errors import ConfigError

        raise ConfigError(f"--intervention.type={config.type!r}: unknown; choose one of {sorted(INTERVENTIONS)}")
    return INTERVENTIONS[config.type](config)
