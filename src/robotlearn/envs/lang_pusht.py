"""Language PushT: push the block an instruction names into the corner it names (pymunk, headless).

A 512 x 512 board (PushT's coordinates: pixels, y pointing down in images) holds three coloured
square blocks (red, green, blue; side 50 px) and a circular agent (radius 15 px) driven, as in
PushT, by a PD controller toward the action `(x, y)`; one `step` is one control step at 10 fps
(10 physics sub-steps of 10 ms). An episode's task is a (block, corner) pair, e.g. `red_top_left`;
its instruction comes from templates ("push the red block to the top left corner"). The goal is
not drawn in the observation: only the instruction says which block goes where.

Success is tolerant: the named block's centre inside its corner region, a square of side
`REGION_SIZE` (160 px) in that corner of the board. The episode terminates on success.

    obs[OBS_STATE_KEY]  float32 (2,)        agent x, y
    obs[OBS_IMAGE_KEY]  uint8 (S, S, 3)     top view, S = image_size (96 by default)
    info["task"]        str                 the instruction, e.g. "push the red block to the top left corner"
    info["task_name"]   str                 the task, e.g. "red_top_left"

The instruction travels in `info` (not in `obs`, whose values are all arrays, as dataset features
are); a recorder stores it as the frame's `task`. Held-out paraphrases (`paraphrases="heldout"`)
are templates never used for training data, for evaluating generalisation to new wordings.

Needs pymunk (the `sim` extra); rendering is plain numpy.
"""

from __future__ import annotations

import numpy as np

from robotlearn.envs.configs import LangPushTEnvConfig

FPS = 10
OBS_STATE_KEY = "observation.state"
OBS_IMAGE_KEY = "observation.images.top"
ACTION_KEY = "action"
ENV_STATE_KEY = "observation.environment_state"
BOARD_SIZE = 512.0
BLOCK_SIZE = 50.0
"""Side of each square block, px."""
AGENT_RADIUS = 15.0
"""Radius of the agent, px."""
REGION_SIZE = 160.0
"""Side of each square corner region, px: a block counts as there when its centre is inside."""
WALL = 5.0
"""Walls run along x, y = WALL and BOARD_SIZE - WALL, px (as in PushT)."""

COLORS = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 220)}
"""Block name -> RGB drawn in the images."""
CORNERS = {
    "top_left": (0.0, 0.0),
    "top_right": (1.0, 0.0),
    "bottom_left": (0.0, 1.0),
    "bottom_right": (1.0, 1.0),
}
"""Corner name -> (x, y) as fractions of the board (y down: top = small y)."""
TASKS = [f"{color}_{corner}" for color in COLORS for corner in CORNERS]
"""Every task name, block colour then corner: red_top_left, red_top_right, ..., blue_bottom_right."""

TRAIN_TEMPLATES = (
    "push the {color} block to the {corner} corner",
    "move the {color} block to the {corner} corner",
    "slide the {color} block into the {corner} corner",
    "put the {color} block in the {corner} corner",
)
"""Instruction templates of training episodes; `{corner}` is written with spaces ("top left")."""
HELDOUT_TEMPLATES = (
    "shove the {color} cube toward the {corner} corner",
    "bring the {color} square over to the {corner} corner",
    "to the {corner} corner, push the {color} block",
)
"""Paraphrases kept out of training: new verbs, nouns and word orders, for evaluation only."""

_BG, _AGENT, _REGION = (238, 238, 230), (90, 90, 90), (200, 200, 200)


def task_parts(task_name: str) -> tuple[str, str]:
    """'red_top_left' -> ('red', 'top_left'). Raises ValueError naming the valid tasks."""
    color, _, corner = task_name.partition("_")
    if color not in COLORS or corner not in CORNERS:
        raise ValueError(f"unknown lang_pusht task {task_name!r}; tasks: {', '.join(TASKS)}")
    return color, corner


def instructions(task_name: str, paraphrases: str = "train") -> list[str]:
    """Every instruction for `task_name` from the `paraphrases` ("train" | "heldout") templates."""
    color, corner = task_parts(task_name)
    templates = {"train": TRAIN_TEMPLATES, "heldout": HELDOUT_TEMPLATES}[paraphrases]
    return [t.format(color=color, corner=corner.replace("_", " ")) for t in templates]


def region_bounds(corner: str) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of the corner's region, px."""
    fx, fy = CORNERS[corner]
    x0 = 0.0 if fx == 0 else BOARD_SIZE - REGION_SIZE
    y0 = 0.0 if fy == 0 else BOARD_SIZE - REGION_SIZE
    return x0, y0, x0 + REGION_SIZE, y0 + REGION_SIZE


def region_center(corner: str) -> np.ndarray:
    """Centre of the corner's region, px (x, y)."""
    x0, y0, x1, y1 = region_bounds(corner)
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2])


def _draw(size: int, blocks: list[np.ndarray], agent: np.ndarray, region: tuple | None = None) -> np.ndarray:
    """A (size, size, 3) uint8 top view: blocks as filled polygons (board-coordinate vertices (4, 2)),
    the agent as a disc; `region` (x0, y0, x1, y1) outlined when given (videos only)."""
    scale = size / BOARD_SIZE
    centres = (np.arange(size) + 0.5) / scale  # pixel centres in board px
    xs, ys = np.meshgrid(centres, centres)  # (size, size) each; row = y
    image = np.empty((size, size, 3), dtype=np.uint8)
    image[:] = _BG
    if region is not None:
        x0, y0, x1, y1 = region
        inside = (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)
        border = inside & ~((xs >= x0 + 4) & (xs <= x1 - 4) & (ys >= y0 + 4) & (ys <= y1 - 4))
        image[border] = _REGION
    for vertices, color in zip(blocks, COLORS.values()):
        inside = np.ones((size, size), dtype=bool)
        for i in range(4):  # convex polygon: inside every edge's half-plane (vertices counter-clockwise)
            (ax, ay), (bx, by) = vertices[i], vertices[(i + 1) % 4]
            inside &= (bx - ax) * (ys - ay) - (by - ay) * (xs - ax) >= 0
        image[inside] = color
    image[(xs - agent[0]) ** 2 + (ys - agent[1]) ** 2 <= AGENT_RADIUS**2] = _AGENT
    return image


class LangPushTEnv:
    """The language-conditioned pushing benchmark. See the module docstring.

    Args:
        task: a task name (e.g. "red_top_left"), a comma-separated list of them, or "all": each
            episode picks one of them at random (from its reset seed).
        paraphrases: "train" (the training templates) or "heldout" (the evaluation-only ones).
        image_size: side of the square observation image, pixels.
        render_size: side of the frames `render()` returns (videos; the goal region is outlined there).
        max_steps: `step` returns truncated=True once this many steps were taken (None: never).
    """

    fps = FPS
    config_class = LangPushTEnvConfig

    @classmethod
    def from_config(cls, config: LangPushTEnvConfig, max_steps: int | None = 300) -> LangPushTEnv:
        """The env `config` describes (see `robotlearn.envs.make_env`)."""
        return cls(
            task=config.task,
            paraphrases=config.paraphrases,
            image_size=config.image_size,
            render_size=config.render_size,
            max_steps=max_steps,
        )

    def __init__(
        self,
        task: str = "all",
        paraphrases: str = "train",
        image_size: int = 96,
        render_size: int = 256,
        max_steps: int | None = 300,
    ):
        if paraphrases not in ("train", "heldout"):
            raise ValueError(f"paraphrases={paraphrases!r}: expected 'train' or 'heldout'")
        self.tasks = list(TASKS) if task == "all" else [t.strip() for t in task.split(",") if t.strip()]
        for name in self.tasks:
            task_parts(name)
        if not self.tasks:
            raise ValueError(f"task={task!r} names no task; tasks: {', '.join(TASKS)}")
        self.paraphrases = paraphrases
        self.image_size, self.render_size, self.max_steps = image_size, render_size, max_steps
        self._rng = np.random.default_rng()
        self._steps = 0
        self._space = None
        self.task_name, self.instruction = self.tasks[0], instructions(self.tasks[0], paraphrases)[0]

    # -- gymnasium-style API -------------------------------------------------------------------
    def reset(self, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        """New episode: a task and one of its instructions, then blocks placed at random in the middle
        of the board (never in a corner region) and the agent at random elsewhere. Returns (obs, info).

        `options={"task": name}` (gymnasium's reset options) sets the episode's task instead of drawing
        it (a recorder cycling through the tasks); ValueError for an unknown name."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        rng = self._rng
        drawn = self.tasks[int(rng.integers(len(self.tasks)))]  # drawn either way: the same layout for a seed
        self.task_name = drawn if not (options or {}).get("task") else options["task"]
        task_parts(self.task_name)
        options = instructions(self.task_name, self.paraphrases)
        self.instruction = options[int(rng.integers(len(options)))]
        positions: list[np.ndarray] = []
        while len(positions) < len(COLORS):  # blocks in the central square, at least 75 px apart
            p = rng.uniform(REGION_SIZE + 30, BOARD_SIZE - REGION_SIZE - 30, size=2)
            if all(np.linalg.norm(p - q) >= 75 for q in positions):
                positions.append(p)
        angles = rng.uniform(-np.pi / 4, np.pi / 4, size=len(COLORS))
        while True:  # the agent anywhere clear of the blocks
            agent = rng.uniform(60, BOARD_SIZE - 60, size=2)
            if all(np.linalg.norm(agent - q) >= 70 for q in positions):
                break
        self._build(agent, positions, angles)
        self._steps = 0
        info = self._info()
        info["is_success"] = False
        return self._obs(), info

    def step(self, action: np.ndarray) -> tuple[dict, float, bool, bool, dict]:
        """Move the agent's target to `action` (x, y), px, for one control step (0.1 s).

        Returns (obs, reward, terminated, truncated, info); reward = terminated = info["is_success"]
        (the named block's centre inside the named corner region)."""
        if self._space is None:
            raise RuntimeError("LangPushTEnv.step called before reset()")
        import pymunk

        target = pymunk.Vec2d(*np.asarray(action, dtype=np.float64).reshape(2).tolist())
        dt = 0.01
        for _ in range(int(1 / (dt * FPS))):  # PushT's PD control of the (kinematic) agent
            acceleration = 100 * (target - self._agent.position) + 20 * (pymunk.Vec2d(0, 0) - self._agent.velocity)
            self._agent.velocity += acceleration * dt
            self._space.step(dt)
        self._steps += 1
        success = self.is_success()
        truncated = self.max_steps is not None and self._steps >= self.max_steps
        info = self._info()
        info["is_success"] = success
        return self._obs(), float(success), success, bool(truncated), info

    @property
    def action_space(self):
        """gymnasium Box of agent targets (x, y) in [0, 512] px."""
        import gymnasium as gym

        return gym.spaces.Box(low=0.0, high=BOARD_SIZE, shape=(2,), dtype=np.float32)

    def render(self) -> np.ndarray:
        """A (render_size, render_size, 3) uint8 frame with the goal region outlined (for videos)."""
        _, corner = task_parts(self.task_name)
        return _draw(self.render_size, self._block_vertices(), self.agent_position(), region_bounds(corner))

    def close(self) -> None:
        self._space = None

    # -- state access (the scripted expert) -----------------------------------------------------
    def agent_position(self) -> np.ndarray:
        """Agent (x, y), px, float64."""
        return np.array(self._agent.position, dtype=np.float64)

    def block_position(self, color: str) -> np.ndarray:
        """Centre (x, y) of the `color` block, px, float64."""
        return np.array(self._blocks[color].position, dtype=np.float64)

    def get_state(self) -> np.ndarray:
        """[agent_x, agent_y, then x, y, angle (rad) of the red, green and blue blocks], float64 (11,)."""
        parts = [self.agent_position()]
        for color in COLORS:
            body = self._blocks[color]
            parts.append(np.array([*body.position, body.angle]))
        return np.concatenate(parts)

    def is_success(self) -> bool:
        """Whether the named block's centre is inside the named corner region."""
        color, corner = task_parts(self.task_name)
        x, y = self.block_position(color)
        x0, y0, x1, y1 = region_bounds(corner)
        return bool(x0 <= x <= x1 and y0 <= y <= y1)

    @property
    def steps(self) -> int:
        """Control steps since the last reset."""
        return self._steps

    # -- internals ---------------------------------------------------------------------------
    def _build(self, agent: np.ndarray, positions: list[np.ndarray], angles: np.ndarray) -> None:
        import pymunk

        space = pymunk.Space()
        space.gravity = 0, 0
        space.damping = 0.0  # as PushT: velocities vanish at once, pushing is quasi-static
        lo, hi = WALL, BOARD_SIZE - WALL
        for a, b in (((lo, lo), (hi, lo)), ((hi, lo), (hi, hi)), ((hi, hi), (lo, hi)), ((lo, hi), (lo, lo))):
            space.add(pymunk.Segment(space.static_body, a, b, 2))
        self._agent = pymunk.Body(body_type=pymunk.Body.KINEMATIC)
        self._agent.position = agent.tolist()
        space.add(self._agent, pymunk.Circle(self._agent, AGENT_RADIUS))
        self._blocks = {}
        half = BLOCK_SIZE / 2
        for color, p, angle in zip(COLORS, positions, angles):
            body = pymunk.Body(1.0, pymunk.moment_for_box(1.0, (BLOCK_SIZE, BLOCK_SIZE)))
            shape = pymunk.Poly(body, [(-half, -half), (half, -half), (half, half), (-half, half)])
            shape.friction = 1.0
            body.angle, body.position = float(angle), p.tolist()
            space.add(body, shape)
            self._blocks[color] = body
        self._space = space

    def _block_vertices(self) -> list[np.ndarray]:
        half = BLOCK_SIZE / 2
        local = np.array([[-half, -half], [half, -half], [half, half], [-half, half]])
        out = []
        for color in COLORS:
            body = self._blocks[color]
            c, s = np.cos(body.angle), np.sin(body.angle)
            out.append(local @ np.array([[c, s], [-s, c]]) + np.array(body.position))  # (4, 2) world px
        return out

    def _obs(self) -> dict:
        return {
            OBS_STATE_KEY: self.agent_position().astype(np.float32),
            OBS_IMAGE_KEY: _draw(self.image_size, self._block_vertices(), self.agent_position()),
        }

    def _info(self) -> dict:
        return {"task": self.instruction, "task_name": self.task_name, "env_state": self.get_state()}


def lang_pusht_dataset_features(image_size: int = 96, use_video: bool = True) -> dict:
    """Dataset features (for `LeRobotDataset.create`) matching LangPushTEnv's observations and actions:
    the same keys and shapes as PushT's."""
    from robotlearn.envs.pusht import pusht_dataset_features

    return pusht_dataset_features(image_size, use_video)


def lang_pusht_env_state_feature() -> dict:
    """The `observation.environment_state` dataset feature: `LangPushTEnv.get_state()` as float32 (11,)."""
    names = ["agent_x", "agent_y"] + [f"{c}_{v}" for c in COLORS for v in ("x", "y", "angle")]
    return {ENV_STATE_KEY: {"dtype": "float32", "shape": (len(names),), "names": names}}
