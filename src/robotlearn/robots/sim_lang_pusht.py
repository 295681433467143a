"""Robot `sim_lang_pusht`: the language PushT benchmark (`envs/lang_pusht.py`) behind the `Robot`
interface, so `robotlearn record` writes multi-task demonstrations, each frame's `task` being its
episode's instruction.

    robotlearn record --robot.type=sim_lang_pusht --teleop.type=scripted_lang_pusht \\
        --dataset.root=data/lang_pusht --dataset.num_episodes=12 --dataset.fps=10 \\
        --dataset.episode_time_s=30 --dataset.reset_time_s=0 --dataset.realtime=false

Episode i records task `tasks[i % len(tasks)]` (with `cycle_tasks`, the default: 12 episodes hold
each of the 12 tasks once), with an instruction drawn from the training templates. Like
`sim_pusht`, each `send_action` is one control step (0.1 s) of simulated time.

    observation_features = {"agent_x": float, "agent_y": float, "top": (96, 96, 3)}
    action_features      = {"target_x": float, "target_y": float}     # board pixels, [0, 512]

so a recorded dataset has PushT's keys and shapes (`lang_pusht_dataset_features()`), plus
`observation.environment_state` (`LangPushTEnv.get_state()`, 11 values) for state-only policies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from robotlearn.errors import ConfigError
from robotlearn.robots.robot import RobotConfig
from robotlearn.robots.sim_pusht import agent_and_camera, board_target
from robotlearn.robots.sim_robot import MultiTaskSimRobot


@dataclass
class LangPushTRobotConfig(RobotConfig):
    """Options of the simulated language PushT robot."""

    type: str = "sim_lang_pusht"
    """Registered robot type."""
    task: str = "all"
    """Tasks to record: all, one name (red_top_left) or a comma-separated list."""
    cycle_tasks: bool = True
    """Episode i records task i mod (number of tasks); false: each episode draws its task from the seed."""
    paraphrases: str = "train"
    """Instruction templates: train, or heldout (evaluation-only paraphrases)."""
    image_size: int = 96
    """Side of the square camera image, pixels."""
    seed: int | None = None
    """Seed of the first episode's layout (None: random); later episodes continue its stream."""
    camera: str = "top"
    """Camera name: the dataset key is observation.images.<camera>."""

    def __post_init__(self):
        from robotlearn.envs.lang_pusht import TASKS

        names = TASKS if self.task == "all" else [t.strip() for t in self.task.split(",") if t.strip()]
        unknown = [n for n in names if n not in TASKS]
        if unknown or not names:
            raise ConfigError(f"--robot.task={self.task!r}: unknown task(s) {unknown}; tasks: all, {', '.join(TASKS)}")
        if self.paraphrases not in ("train", "heldout"):
            raise ConfigError(f"--robot.paraphrases={self.paraphrases!r}: expected train or heldout")


class LangPushTRobot(MultiTaskSimRobot):
    """Language PushT as a robot: `connect()` builds the env, `reset_episode()` starts the next
    task's episode, `episode_task()` is its instruction. `last_info` holds the reward and
    is_success of the last step."""

    config_class = LangPushTRobotConfig
    name = "sim_lang_pusht"

    def __init__(self, config: LangPushTRobotConfig | None = None):
        super().__init__(config or LangPushTRobotConfig())

    @property
    def observation_features(self) -> dict[str, Any]:
        s = self.config.image_size
        return {"agent_x": float, "agent_y": float, self.config.camera: (s, s, 3)}

    @property
    def action_features(self) -> dict[str, Any]:
        return {"target_x": float, "target_y": float}

    @property
    def extra_dataset_features(self) -> dict[str, dict]:
        from robotlearn.envs.lang_pusht import lang_pusht_env_state_feature

        return lang_pusht_env_state_feature()

    @property
    def can_reset_to_state(self) -> bool:
        return False  # the state does not say which task the episode had

    def make_env(self):
        from robotlearn.envs.lang_pusht import LangPushTEnv

        c = self.config
        return LangPushTEnv(task=c.task, paraphrases=c.paraphrases, image_size=c.image_size, max_steps=None)

    def get_observation(self) -> dict[str, Any]:
        self._require()
        return agent_and_camera(self._obs, self.config.camera)

    def get_extra_observation(self) -> dict[str, Any]:
        from robotlearn.envs.lang_pusht import ENV_STATE_KEY

        return {ENV_STATE_KEY: self._require().get_state().astype(np.float32)}

    def send_action(self, action: dict[str, Any]) -> dict[str, Any]:
        """Step the sim once toward target (x, y), clipped to the board; returns the float32 target sent."""
        env = self._require()
        target = board_target(action, "LangPushTRobot")
        obs, reward, _, _, info = env.step(target)
        self._stepped(obs, reward, info)
        return {"target_x": float(target[0]), "target_y": float(target[1])}
