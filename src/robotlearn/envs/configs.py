"""Environment configs: `--env.type=NAME` selects one of these through `robotlearn.envs.ENVS`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class EnvConfig:
    """Fields every simulated environment has."""

    __registry__ = "robotlearn.envs:ENVS"

    type: str = ""
    """Environment name (see `robotlearn.envs.ENVS`)."""


@dataclass
class PushTEnvConfig(EnvConfig):
    """PushT (gym-pusht) at 10 fps with robotlearn's observation keys."""

    type: str = "pusht"
    """Environment name."""
    image_size: int = 96
    """Side of the square observation image, pixels."""
    render_size: int = 384
    """Side of the frames `render()` returns for videos, pixels."""
    reward: str = "dense"
    """dense (gym-pusht's min(coverage / 0.95, 1) per step) or success (1 when coverage > 0.95, else 0: RL's sparse reward)."""


@dataclass
class GymEnvConfig(EnvConfig):
    """A gymnasium task with Box observation and action spaces (its vector as observation.state)."""

    type: str = "gym"
    """Environment name."""
    id: str = "Pendulum-v1"
    """gymnasium id, e.g. Pendulum-v1."""


@dataclass
class GymHilEnvConfig(EnvConfig):
    """gym-hil's MuJoCo Panda tasks, headless (Base variants), with two 128x128 cameras."""

    type: str = "gym_hil"
    """Environment name."""
    task: str = "PandaPickCubeBase-v0"
    """gym-hil task id (a headless Base variant): PandaPickCubeBase-v0, PandaArrangeBoxesBase-v0."""
    image_obs: bool = True
    """Also return the front and wrist cameras (slow on a CPU: software rendering)."""


@dataclass
class LangPushTEnvConfig(EnvConfig):
    """Language PushT: push the block the instruction names into the corner it names (multi-task)."""

    type: str = "lang_pusht"
    """Environment name."""
    task: str = "all"
    """Task(s) to draw episodes from: all, one name (red_top_left) or a comma-separated list."""
    paraphrases: str = "train"
    """Instruction templates: train, or heldout (evaluation-only paraphrases)."""
    image_size: int = 96
    """Side of the square observation image, pixels."""
    render_size: int = 256
    """Side of the frames `render()` returns for videos, pixels."""


@dataclass
class MetaWorldEnvConfig(EnvConfig):
    """Meta-World's Sawyer tasks (MT10), state observations, one instruction per task (extra 'metaworld')."""

    type: str = "metaworld"
    """Environment name."""
    task: str = "mt10"
    """mt10 (each episode one of its 10 tasks), one task (drawer-open-v3) or a comma-separated list."""


@dataclass
class ReachEnvConfig(EnvConfig):
    """Reach: move a point to a goal only the camera shows (RL from pixels; numpy only)."""

    type: str = "reach"
    """Environment name."""
    image_size: int = 32
    """Side of the square observation image, pixels."""
    render_size: int = 128
    """Side of the frames `render()` returns for videos, pixels."""
    reward: str = "dense"
    """dense (minus the distance to the goal, +10 on success) or success (1 on success, else 0)."""
    terminate_on_success: bool = True
    """End the episode when the point reaches the goal (false: it goes on, so successes last)."""
    speed: float = 0.1
    """How far a full action moves the point per step, in arena half-widths."""
    with_state: bool = False
    """Also return observation.state = (point x, y, goal x, y): a state-based policy beside the camera
    (e.g. one rewarded by a reward classifier that looks at the camera)."""
