"""The scripted PushT expert's planner: given the simulator state, the next target of the agent.

Used by the `scripted_pusht` teleoperator (recording demonstrations), by the quickstart's expert
baseline and by benchmarks; it depends only on the PushT simulator (`envs/pusht.py`).

    expert = PushTExpert()
    obs, info = env.reset(seed=0)          # env: robotlearn.envs.PushTEnv
    expert.reset()                          # at the start of every episode
    action = expert.act_env(env)            # = expert.act(env.get_state(), env.agent_velocity(), env.coverage())
    env.step(action)

How it works (one push at a time, re-planned after each push):

1. Candidates. A fixed set of contact points on the T's outline, each with the inward normal `n`
   of its edge (pushes are frictionless in gym-pusht, so the block is only ever pushed along `n`).
   A push starts with the agent at rest just outside the contact (`pre = contact - n * 18`) and
   moves its target along `n` by a depth D over a few control steps.
2. Scoring. Each candidate x depth is rolled out in a private copy of the physics (pymunk, same
   PD controller and time step as gym-pusht, no rendering). Far from the goal a push is scored
   by the mean squared distance between the T's 8 corners and their goal positions; close to it
   (corner error < `fine_error`), by the goal area left uncovered, with shallower pushes. The
   push with the largest error reduction per control step wins, counting the steps needed to
   travel to its start, so the expert prefers nearby contacts over long detours.
3. Execution. The agent travels to the push's start point, going around the block (a shortest
   path on a 10 px grid that keeps clear of the block) when the straight path would touch it, then
   executes the push's targets, then re-plans. Once the block covers > 95% of the goal
   (gym-pusht's success) the agent backs off and holds still.

With `max_target_distance` set (e.g. 30 px: `--teleop.max_target_distance=30`), every commanded
target is moved toward the agent along the same line to at most that distance, in the roll-outs
too, so a push is scored as it will be executed. The agent then travels and pushes in small steps
(target = position + at most 30 px, instead of targets up to ~400 px away): slower (163 instead of
118 steps on average, still 50/50 on `benchmarks/bench_scripted_pusht.py`'s seeds) and much easier
for a policy to imitate, which must regress that target (docs/training.md).

The planner is deterministic: the same state sequence gives the same actions. Its action depends on
its plan as well as the state; `pusht_feedback_expert.PushTFeedbackExpert` (`--teleop.expert=feedback`)
is an expert whose action is a function of the state alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

AGENT_RADIUS = 15.0
GOAL = np.array([256.0, 256.0, math.pi / 4])  # block origin x, y, angle
COG_LOCAL = np.array([0.0, 45.0])  # the T's centre of gravity in its own frame
# The T's 8 corners in its own frame (bar: x in [-60, 60], y in [0, 30]; stem: x in [-15, 15], y in [30, 120]).
CORNERS = np.array([[-60, 0], [60, 0], [60, 30], [-60, 30], [-15, 30], [15, 30], [15, 120], [-15, 120]], float)


def _outline_contacts() -> tuple[np.ndarray, np.ndarray]:
    """Contact points on the T's outline and their inward normals, in the T's frame."""
    pts, normals = [], []

    def add(points, inward):
        for p in points:
            pts.append(p)
            normals.append(inward)

    add([(x, 0.0) for x in (-50, -30, -10, 10, 30, 50)], (0.0, 1.0))  # bar's flat side, push +y
    add([(60.0, 15.0)], (-1.0, 0.0))  # bar ends
    add([(-60.0, 15.0)], (1.0, 0.0))
    add([(x, 30.0) for x in (-52, -38, 38, 52)], (0.0, -1.0))  # under the bar, beside the stem
    add([(15.0, y) for y in (52, 80, 108)], (-1.0, 0.0))  # stem sides
    add([(-15.0, y) for y in (52, 80, 108)], (1.0, 0.0))
    add([(x, 120.0) for x in (-9, 0, 9)], (0.0, -1.0))  # stem end
    return np.array(pts, float), np.array(normals, float)


CONTACTS, NORMALS = _outline_contacts()


def _rot(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s], [s, c]])


@dataclass
class PushTExpertConfig:
    """Options of the scripted PushT expert (all lengths in PushT pixels, board = 512)."""

    push_depths: tuple[float, ...] = (8.0, 20.0, 45.0, 80.0)
    """How far a push moves the target past its start, px (candidates tried)."""
    fine_depths: tuple[float, ...] = (3.0, 6.0, 10.0)
    """Push depths once the block is close to the goal, px."""
    fine_error: float = 150.0
    """Corner error below which pushes are scored by goal coverage, px^2."""
    push_steps: int = 3
    """Control steps per push."""
    approach_gap: float = 3.0
    """Distance between the agent's edge and the block at a push's start, px."""
    travel_speed: float = 30.0
    """Speed assumed when estimating the time to reach a push, px per control step."""
    clearance: float = 4.0
    """Extra margin kept from the block while travelling, px."""
    max_target_distance: float = 0.0
    """Farthest a commanded target may be from the agent, px (0: no cap). A target farther away is moved
    toward the agent along the same line, in the roll-outs too, so the chosen pushes are simulated as executed."""


class _Physics:
    """A private copy of gym-pusht's physics for rolling out candidate pushes (no rendering)."""

    def __init__(self):
        from robotlearn.envs.pusht import _import_gym_pusht

        _import_gym_pusht()
        from gym_pusht.envs.pusht import PushTEnv as GymPushT

        self.sim = GymPushT(obs_type="state")
        self.sim._setup()
        self.substeps = int(1 / (self.sim.dt * self.sim.control_hz))

    def rollout(
        self, state: np.ndarray, agent_vel, targets: np.ndarray, max_target_distance: float = 0.0
    ) -> np.ndarray:
        """Block pose (x, y, angle) after driving the agent through `targets` from `state`; each target is
        first capped to `max_target_distance` px from the agent (0: no cap), as `PushTExpert.act` does."""
        sim, agent, block = self.sim, self.sim.agent, self.sim.block
        agent.position = (float(state[0]), float(state[1]))
        agent.velocity = (float(agent_vel[0]), float(agent_vel[1]))
        block.angle = float(state[4])
        block.position = (float(state[2]), float(state[3]))
        block.velocity = (0.0, 0.0)
        block.angular_velocity = 0.0
        kp, kv, dt = sim.k_p, sim.k_v, sim.dt
        for target in targets:
            tx, ty = cap_target(np.array(agent.position), target, max_target_distance)
            for _ in range(self.substeps):
                px, py = agent.position
                vx, vy = agent.velocity
                agent.velocity = (vx + (kp * (tx - px) - kv * vx) * dt, vy + (kp * (ty - py) - kv * vy) * dt)
                sim.space.step(dt)
        return np.array([block.position.x, block.position.y, block.angle])


def cap_target(agent: np.ndarray, target, max_distance: float) -> np.ndarray:
    """`target` (x, y), moved toward `agent` along the line between them to at most `max_distance` px
    from it (unchanged when `max_distance` is 0 or the target is close enough)."""
    target = np.asarray(target, dtype=np.float64)
    offset = target - agent
    dist = float(np.hypot(offset[0], offset[1]))
    if max_distance <= 0 or dist <= max_distance:
        return target
    return agent + offset * (max_distance / dist)


_GOAL_GEOM = None


def _t_polygon(pose: np.ndarray):
    from shapely.geometry import Polygon
    from shapely.ops import unary_union

    r = _rot(pose[2])
    bar = CORNERS[:4] @ r.T + pose[:2]
    stem = CORNERS[[4, 5, 6, 7]] @ r.T + pose[:2]
    return unary_union([Polygon(bar), Polygon(stem)])


def coverage(pose: np.ndarray) -> float:
    """Fraction of the goal area covered by the T at `pose` (gym-pusht's success measure)."""
    global _GOAL_GEOM
    if _GOAL_GEOM is None:
        _GOAL_GEOM = _t_polygon(GOAL)
    return float(_t_polygon(pose).intersection(_GOAL_GEOM).area / _GOAL_GEOM.area)


def corner_error(pose: np.ndarray) -> float:
    """Mean squared distance (px^2) between the T's corners at `pose` and at the goal."""
    a = CORNERS @ _rot(pose[2]).T + pose[:2]
    b = CORNERS @ _rot(GOAL[2]).T + GOAL[:2]
    return float(np.mean(np.sum((a - b) ** 2, axis=1)))


class PushTExpert:
    """The planner: `act(state, agent_vel, coverage) -> (x, y)`, or `act_env(env)`. See the module docstring.

    Args:
        config: planner options; any object with the fields of `PushTExpertConfig` (the
            `scripted_pusht` teleoperator passes its own config).
    Raises:
        ImportError (naming the 'sim' extra) if gym-pusht is not installed.
    """

    def __init__(self, config: PushTExpertConfig | None = None):
        self.cfg = config or PushTExpertConfig()
        self.physics = _Physics()
        self.reset()

    def reset(self) -> None:
        """Forget the current plan; call it at the start of every episode."""
        self.plan: list[np.ndarray] = []  # remaining push targets
        self.push: tuple[np.ndarray, np.ndarray] | None = None  # (start point, normal) of the chosen push
        self.done_hold: np.ndarray | None = None

    # -- geometry -----------------------------------------------------------------------------------
    @staticmethod
    def distance_to_block(points: np.ndarray, pose: np.ndarray) -> np.ndarray:
        """Distance (px) from each world point `(N, 2)` to the T at `pose` (0 inside)."""
        local = (points - pose[:2]) @ _rot(pose[2])  # rotate by -angle
        dists = []
        for lo, hi in (((-60.0, 0.0), (60.0, 30.0)), ((-15.0, 30.0), (15.0, 120.0))):
            d = np.maximum(np.maximum(np.array(lo) - local, local - np.array(hi)), 0.0)
            dists.append(np.hypot(d[:, 0], d[:, 1]))
        return np.minimum(*dists)

    def _segment_clear(self, pose, a, b, margin) -> bool:
        n = max(2, int(np.linalg.norm(b - a) / 3.0) + 1)
        pts = a + np.linspace(0.0, 1.0, n)[:, None] * (b - a)
        return bool(np.all(self.distance_to_block(pts, pose) > AGENT_RADIUS + margin))

    def _grid_path(self, pose, start, goal, cell=10.0) -> list[np.ndarray]:
        """Shortest path on a grid around the T (Dijkstra; cells near the block cost more)."""
        import heapq

        n = int(512 // cell)
        centers = (np.stack(np.meshgrid(np.arange(n), np.arange(n), indexing="ij"), -1) + 0.5) * cell
        dist = self.distance_to_block(centers.reshape(-1, 2), pose).reshape(n, n)
        inside = (centers < 20).any(-1) | (centers > 492).any(-1)
        blocked = (dist < AGENT_RADIUS + 1.0) | inside
        penalty = np.where(dist < AGENT_RADIUS + self.cfg.clearance + 8.0, 4.0, 0.0)
        si, sj = np.clip((start // cell).astype(int), 0, n - 1)
        gi, gj = np.clip((goal // cell).astype(int), 0, n - 1)
        best = {(si, sj): 0.0}
        parent = {}
        heap = [(0.0, si, sj)]
        while heap:
            d, i, j = heapq.heappop(heap)
            if (i, j) == (gi, gj):
                break
            if d > best[(i, j)]:
                continue
            for di, dj, w in (
                (1, 0, 1.0),
                (-1, 0, 1.0),
                (0, 1, 1.0),
                (0, -1, 1.0),
                (1, 1, 1.414),
                (1, -1, 1.414),
                (-1, 1, 1.414),
                (-1, -1, 1.414),
            ):
                a, b = i + di, j + dj
                if not (0 <= a < n and 0 <= b < n) or (blocked[a, b] and (a, b) != (gi, gj)):
                    continue
                nd = d + w + penalty[a, b]
                if nd < best.get((a, b), math.inf):
                    best[(a, b)] = nd
                    parent[(a, b)] = (i, j)
                    heapq.heappush(heap, (nd, a, b))
        if (gi, gj) not in parent:
            return [goal]
        path, node = [goal], parent[(gi, gj)]
        while node != (si, sj):
            path.append(centers[node])
            node = parent[node]
        return path[::-1]

    # -- planning -----------------------------------------------------------------------------------
    def _choose_push(self, state, agent_vel):
        cfg = self.cfg
        pose = state[2:5]
        r = _rot(pose[2])
        agent = state[:2]
        fine = corner_error(pose) < cfg.fine_error
        # Far from the goal, the corners' squared error; close to it, the uncovered goal area (px^2).
        score = (lambda p: (1.0 - coverage(p)) * 6300.0) if fine else corner_error
        base = score(pose)
        best, best_rate = None, 0.0  # a push must reduce the error
        offset = AGENT_RADIUS + cfg.approach_gap
        for c_local, n_local in zip(CONTACTS, NORMALS):
            n = r @ n_local
            start = r @ c_local + pose[:2] - n * offset
            if np.any(start < 20) or np.any(start > 492):  # the agent would hit a wall
                continue
            travel = float(np.linalg.norm(start - agent))
            for depth in cfg.fine_depths if fine else cfg.push_depths:
                targets = [start + n * depth * (j + 1) / cfg.push_steps for j in range(cfg.push_steps)]
                s = state.copy()
                s[:2] = start
                end = self.physics.rollout(s, (0.0, 0.0), np.array(targets), cfg.max_target_distance)
                # Error reduction per control step, counting the steps to get there.
                rate = (base - score(end)) / (cfg.push_steps + 1 + travel / cfg.travel_speed)
                if rate > best_rate:
                    best, best_rate = (start, n, targets), rate
        return best

    def _travel_target(self, state, goal_point) -> np.ndarray:
        """Next waypoint toward `goal_point` that keeps the agent off the block."""
        pose, agent, margin = state[2:5], state[:2], self.cfg.clearance
        if self._segment_clear(pose, agent, goal_point, margin):
            return goal_point
        path = self._grid_path(pose, agent, goal_point)
        target = path[0]
        for p in path:  # the farthest path point reachable in a straight line
            if not self._segment_clear(pose, agent, p, margin):
                break
            target = p
        return target

    def act(self, state: np.ndarray, agent_vel, coverage: float) -> np.ndarray:
        """Target agent position (x, y) for the next control step, at most `max_target_distance` px
        from the agent when that is set.

        Args:
            state: [agent_x, agent_y, block_x, block_y, block_angle] (PushTEnv.get_state()).
            agent_vel: agent velocity (px/s), used by the roll-outs.
            coverage: current goal coverage in [0, 1].
        """
        state = np.asarray(state, dtype=np.float64)
        target = self._next_target(state, np.asarray(agent_vel, dtype=np.float64), coverage)
        return cap_target(state[:2], target, self.cfg.max_target_distance)

    def _next_target(self, state: np.ndarray, agent_vel: np.ndarray, coverage: float) -> np.ndarray:
        agent = state[:2]
        if coverage > 0.95 or self.done_hold is not None:
            if self.done_hold is None:  # back off 12 px from the block, then hold still
                pose = state[2:5]
                cog = _rot(pose[2]) @ COG_LOCAL + pose[:2]
                away = agent - cog
                self.done_hold = agent + away / max(np.linalg.norm(away), 1e-6) * 12.0
            if coverage < 0.9:  # knocked out of the goal: resume pushing
                self.done_hold = None
            else:
                return self.done_hold
        if self.plan:
            return self.plan.pop(0)
        if self.push is None:
            chosen = self._choose_push(state, agent_vel)
            if chosen is None:  # nothing improves: nudge toward the block's centre of gravity
                pose = state[2:5]
                return _rot(pose[2]) @ COG_LOCAL + pose[:2]
            start, n, targets = chosen
            self.push = (start, n, targets)
        start, n, targets = self.push
        if np.linalg.norm(agent - start) < 4.0 and np.linalg.norm(agent_vel) < 60.0:
            self.plan = [np.asarray(t) for t in targets]
            self.push = None
            return self.plan.pop(0)
        return self._travel_target(state, start)

    def act_env(self, env) -> np.ndarray:
        """Target agent position (x, y) for the next step of `env` (a `robotlearn.envs.PushTEnv`)."""
        return self.act(env.get_state(), env.agent_velocity(), env.coverage())
