"""Meta-World (https://metaworld.farama.org, `pip install 'robotlearn[metaworld]'`): a Sawyer arm's
manipulation tasks in MuJoCo, with state observations and one English instruction per task.

    env = MetaWorldEnv(task="mt10")                 # each episode one of the 10 MT10 tasks
    obs, info = env.reset(seed=0)                   # info["task"]: "open the drawer", info["task_name"]: "drawer-open-v3"
    obs, reward, terminated, truncated, info = env.step(scripted_action(info["task_name"], obs[STATE_KEY]))

    obs[STATE_KEY]  float64 -> float32 (39,)  hand xyz, gripper opening, object 1 xyz + quaternion,
                                              object 2 xyz + quaternion, the same 18 a step earlier, goal xyz
    action          float32 (4,)              hand displacement dx, dy, dz and gripper effort, each in [-1, 1]

Episode i: `reset(seed)` picks the task (for "mt10", uniformly from the seed) and one of its 50
fixed variations (object and goal positions, the MT10 benchmark's own, built with benchmark seed
0), so the same seed gives the same episode. Success is Meta-World's `info["success"]`; the episode
terminates on it (MT10's evaluation counts an episode successful if it ever succeeds). Episodes are
at most 500 steps (Meta-World's limit) at the 80 Hz of its control step, recorded at `FPS`.

Observations are state only: rendering MuJoCo on a CPU is slow. `render()` draws a schematic top
view (hand, objects and goal as dots) with numpy, for evaluation videos.

Scripted policies: Meta-World ships one per task (`metaworld.policies`); `scripted_action` runs the
task's, the demonstrator of `robotlearn record --teleop.type=scripted_metaworld`.
"""

from __future__ import annotations

import os
from functools import cache

import numpy as np

from robotlearn.envs.configs import MetaWorldEnvConfig

FPS = 80
"""Dataset frames per second: Meta-World's control step is 5 MuJoCo steps of 2.5 ms (12.5 ms)."""
STATE_KEY = "observation.state"
ACTION_KEY = "action"
STATE_DIM = 39
ACTION_DIM = 4
MAX_STEPS = 500
"""Meta-World's episode limit, steps."""

MT10_INSTRUCTIONS = {
    "reach-v3": "reach the goal position with the gripper",
    "push-v3": "push the puck to the goal",
    "pick-place-v3": "pick up the puck and place it at the goal",
    "door-open-v3": "open the door",
    "drawer-open-v3": "open the drawer",
    "drawer-close-v3": "close the drawer",
    "button-press-topdown-v3": "press the button down from the top",
    "peg-insert-side-v3": "insert the peg into the hole from the side",
    "window-open-v3": "slide the window open",
    "window-close-v3": "slide the window closed",
}
"""The MT10 tasks, in Meta-World's order, and the instruction of each."""
MT10 = list(MT10_INSTRUCTIONS)

_OBJ = ("x", "y", "z", "qw", "qx", "qy", "qz")
STATE_NAMES = (
    ["hand_x", "hand_y", "hand_z", "gripper"]
    + [f"obj1_{v}" for v in _OBJ]
    + [f"obj2_{v}" for v in _OBJ]
    + [
        f"prev_{n}"
        for n in ["hand_x", "hand_y", "hand_z", "gripper", *(f"obj1_{v}" for v in _OBJ), *(f"obj2_{v}" for v in _OBJ)]
    ]
    + ["goal_x", "goal_y", "goal_z"]
)
"""Names of the 39 state values."""
ACTION_NAMES = ["dx", "dy", "dz", "grip"]


def _metaworld():
    # MuJoCo picks its OpenGL backend when first imported: headless EGL, as gym_hil does, so that a
    # later gym_hil env in this process can still render (Meta-World itself renders nothing here).
    os.environ.setdefault("MUJOCO_GL", "egl")
    try:
        import metaworld
    except ImportError as e:
        raise ImportError(f"Meta-World needs the metaworld package ({e}): pip install 'robotlearn[metaworld]'") from e
    return metaworld


def parse_tasks(task: str) -> list[str]:
    """ "mt10" -> the 10 MT10 tasks; "reach-v3" or "reach-v3,push-v3" -> those. ValueError naming the
    valid ones for an unknown name (any of Meta-World's v3 tasks has an instruction only if in MT10)."""
    names = MT10 if task.lower() == "mt10" else [t.strip() for t in task.split(",") if t.strip()]
    unknown = [n for n in names if n not in MT10_INSTRUCTIONS]
    if unknown or not names:
        raise ValueError(f"unknown Meta-World task(s) {unknown or task!r}; use mt10 or any of: {', '.join(MT10)}")
    return names


@cache
def _benchmark(name: str):
    """Meta-World's MT1 benchmark of one task (its 50 variations), built once per process."""
    return _metaworld().MT1(name, seed=0)


@cache
def _scripted_policy(name: str):
    _metaworld()
    from metaworld.policies import ENV_POLICY_MAP

    return ENV_POLICY_MAP[name]()


def scripted_action(task_name: str, state: np.ndarray) -> np.ndarray:
    """Meta-World's scripted policy of `task_name` for the (39,) state: the action (4,) float32, in [-1, 1]."""
    import warnings

    with warnings.catch_warnings():  # "Constant(s) may be too high": the env clips, as intended
        warnings.simplefilter("ignore", UserWarning)
        action = _scripted_policy(task_name).get_action(np.asarray(state, dtype=np.float64))
    return np.clip(action, -1.0, 1.0).astype(np.float32)


class MetaWorldEnv:
    """Meta-World task(s) with robotlearn's observation keys and the instruction in `info["task"]`.
    See the module docstring.

    Args:
        task: "mt10", one MT10 task name ("drawer-open-v3") or a comma-separated list of them.
        max_steps: truncate after this many steps (None or more than 500: Meta-World's 500).
    """

    fps = FPS
    config_class = MetaWorldEnvConfig

    @classmethod
    def from_config(cls, config: MetaWorldEnvConfig, max_steps: int | None = 300) -> MetaWorldEnv:
        """The env `config` describes (see `robotlearn.envs.make_env`)."""
        return cls(task=config.task, max_steps=max_steps)

    def __init__(self, task: str = "mt10", max_steps: int | None = MAX_STEPS):
        _metaworld()
        self.tasks = parse_tasks(task)
        self.max_steps = MAX_STEPS if max_steps is None else min(max_steps, MAX_STEPS)
        self._envs: dict = {}
        self._env = None
        self._rng = np.random.default_rng()
        self._steps = 0
        self.task_name = self.tasks[0]
        self.variation = 0
        self._state = np.zeros(STATE_DIM)

    @property
    def instruction(self) -> str:
        return MT10_INSTRUCTIONS[self.task_name]

    def _env_of(self, name: str):
        if name not in self._envs:
            self._envs[name] = _benchmark(name).train_classes[name]()
        return self._envs[name]

    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        """New episode: a task (or `options={"task": name}`) and one of its 50 variations, both from the
        seed. Returns (obs, info)."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        drawn = self.tasks[int(self._rng.integers(len(self.tasks)))]
        self.task_name = (options or {}).get("task") or drawn
        parse_tasks(self.task_name)
        variations = [t for t in _benchmark(self.task_name).train_tasks if t.env_name == self.task_name]
        self.variation = int(self._rng.integers(len(variations)))
        self._env = self._env_of(self.task_name)
        self._env.set_task(variations[self.variation])
        state, _ = self._env.reset()
        self._state, self._steps = state, 0
        return self._obs(), {**self._info(), "is_success": False}

    def step(self, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        """Apply (dx, dy, dz, grip) (clipped to [-1, 1]) for one control step. Returns (obs, reward,
        terminated = info["is_success"], truncated, info)."""
        if self._env is None:
            raise RuntimeError("MetaWorldEnv.step called before reset()")
        action = np.clip(np.asarray(action, dtype=np.float64).reshape(ACTION_DIM), -1.0, 1.0)
        state, reward, _, _, mw_info = self._env.step(action)
        self._state = state
        self._steps += 1
        success = bool(mw_info.get("success", 0.0))
        info = {**self._info(), "is_success": success}
        return self._obs(), float(reward), success, self._steps >= self.max_steps, info

    @property
    def action_space(self):
        import gymnasium as gym

        return gym.spaces.Box(low=-1.0, high=1.0, shape=(ACTION_DIM,), dtype=np.float32)

    def state(self) -> np.ndarray:
        """The current (39,) state, float64 (what the scripted policies read)."""
        return self._state.copy()

    def render(self, size: int = 128) -> np.ndarray:
        """A (size, size, 3) uint8 schematic top view of the table (x right, y up): the hand gray,
        object 1 red, object 2 blue, the goal a green ring. Not a camera image."""
        s = self._state
        image = np.full((size, size, 3), 240, dtype=np.uint8)
        ys, xs = np.mgrid[0:size, 0:size]

        def to_px(x, y):  # the table spans about x in [-0.5, 0.5], y in [0.3, 1.0] metres
            return (x + 0.5) * size, (1.0 - (y - 0.3) / 0.7) * size

        def disc(x, y, r, color, ring=False):
            px, py = to_px(x, y)
            d2 = (xs - px) ** 2 + (ys - py) ** 2
            inside = d2 <= r * r
            if ring:
                inside &= d2 >= (r - 2) ** 2
            image[inside] = color

        disc(s[36], s[37], size / 16, (40, 170, 60), ring=True)
        disc(s[11], s[12], size / 24, (40, 80, 220))
        disc(s[4], s[5], size / 24, (220, 40, 40))
        disc(s[0], s[1], size / 20, (90, 90, 90))
        return image

    def close(self) -> None:
        for env in self._envs.values():
            env.close()
        self._envs, self._env = {}, None

    def _obs(self) -> dict:
        return {STATE_KEY: self._state.astype(np.float32)}

    def _info(self) -> dict:
        return {"task": self.instruction, "task_name": self.task_name, "variation": self.variation}


def metaworld_dataset_features() -> dict:
    """Dataset features (for `LeRobotDataset.create`) matching MetaWorldEnv: observation.state (39,), action (4,)."""
    return {
        STATE_KEY: {"dtype": "float32", "shape": (STATE_DIM,), "names": list(STATE_NAMES)},
        ACTION_KEY: {"dtype": "float32", "shape": (ACTION_DIM,), "names": list(ACTION_NAMES)},
    }
