"""A state-feedback PushT expert: its target is a function of the current observation only.

`PushTExpert` (pusht_expert.py) commits to pushes it simulated from one observation, so its action
depends on a hidden plan; a policy that sees only the state cannot fit it exactly. This expert keeps
no plan: `act(state)` is a deterministic function of the agent position and the block pose (the
agent velocity is ignored), re-evaluated at every control step, with every target within
`max_target_distance` (30 px) of the agent.

    expert = PushTFeedbackExpert()
    obs, info = env.reset(seed=0)          # env: robotlearn.envs.PushTEnv
    expert.reset()                          # no-op: the expert has no memory (kept for the shared interface)
    action = expert.act_env(env)            # = expert.act(env.get_state(), env.agent_velocity(), env.coverage())

How it works, at every step:

1. Push model. gym-pusht's block has zero damping (pymunk zeroes its velocity every physics step) and
   frictionless shapes, so it is quasi-static: pushed at a body-fixed outline point c with inward
   normal n, a contact displacement s moves the centre of gravity along n by s k^2 / (k^2 + l^2) and
   turns the block by s l / (k^2 + l^2), with l = (c - cog) x n the lever arm and k^2 = I / m = 3000 px^2.
   Integrated in closed form, this predicts the pose after a push of any length s.
2. Contact choice. Contacts are sampled every `contact_spacing` px along the T's outline. For each,
   a line search over s gives the largest reduction G of the pose error and the s* that achieves it.
   The pose error is the corner error (mean squared distance of the T's 8 corners to the goal's)
   with the angle difference not taken modulo 2 pi (`pose_errors`): the block is always turned to
   the goal angle pi/4 itself, so the observed (unwrapped) block angle stays in [-pi, pi] and the
   goal has one angle in the demonstrations. With the corner error itself (`shortest_turn`), 18 of
   100 demonstrations ended at pi/4 - 2 pi and 16% of their frames had |angle| > pi. The agent's
   path length d to the contact's pre-contact point (18 px outside it) is the shortest path around
   the block (a visibility graph over the T's outline inflated by the agent's radius). The contact
   maximizing log G - d / `distance_scale` wins: while the agent travels toward it, the block stays
   put and d of the chosen contact falls at least as fast as any other's, so the choice stays the
   same (no dithering between contacts during travel). The winner is refined between samples (the
   peak of a parabola through its neighbours' scores), so the contact slides along an edge.
3. Target. Far from the chosen contact: the next waypoint of that shortest path. In line behind it
   (lateral offset < 10 px, within 2 px of the pre-contact point or closer): the agent's position
   when touching the contact, advanced min(s*, `max_lead`) along n (s*: where the block reaches the
   best pose of that push). In between, the two are blended by a weight that is continuous in the
   state, so the target does not jump as the agent reaches the contact. Once the goal is covered
   > 95% (gym-pusht's success) the agent backs away to 10 px from the block and holds still.
4. Every target is clipped to the board (the agent is kinematic: it would follow a target through a
   wall) and moved toward the agent to at most `max_target_distance` px (as `PushTExpert` with
   `--teleop.max_target_distance`).

Contact selection is an argmax, so the target jumps where two contacts tie (about 1 state in 10
for a 0.5 px shift of the block, 1 in 4 near the goal). The expert passes such states once; a
policy imitating it can land between the two targets and dither there (docs/training.md, issue 15).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robotlearn.envs.pusht_expert import AGENT_RADIUS, COG_LOCAL, CORNERS, GOAL, PushTExpert, _rot, cap_target

BLOCK_MOMENT = 3000.0  # gym-pusht's T: mass 1, moment of inertia 3000 px^2 about its centre of gravity
BOARD_MIN, BOARD_MAX = 22.0, 490.0  # reachable agent centres: walls at 5 (+2 px thick) and 506, agent radius 15
_GOAL_CORNERS = CORNERS @ _rot(GOAL[2]).T + GOAL[:2]
_distance_to_block = PushTExpert.distance_to_block


def outline_contacts(spacing: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contact points every ~`spacing` px along the T's outline, their inward normals (in the T's frame)
    and the index of their edge; consecutive points of an edge are evenly spaced.

    Points within 5 px of a convex corner are left out (the normal is ambiguous there), and those
    where the agent's disc would also touch the other part of the T (under the bar beside the stem,
    on the stem next to the bar) too. Returns ((K, 2), (K, 2), (K,) int).
    """
    r = AGENT_RADIUS + 3.0  # nearest a contact may be to the concave corner between bar and stem
    edges = [  # (fixed coordinate axis, fixed value, range on the other axis, inward normal)
        (1, 0.0, (-55.0, 55.0), (0.0, 1.0)),  # bar's flat side
        (0, 60.0, (5.0, 25.0), (-1.0, 0.0)),  # bar ends
        (0, -60.0, (5.0, 25.0), (1.0, 0.0)),
        (1, 30.0, (15.0 + r, 55.0), (0.0, -1.0)),  # under the bar, beside the stem
        (1, 30.0, (-55.0, -15.0 - r), (0.0, -1.0)),
        (0, 15.0, (30.0 + r, 115.0), (-1.0, 0.0)),  # stem sides
        (0, -15.0, (30.0 + r, 115.0), (1.0, 0.0)),
        (1, 120.0, (-10.0, 10.0), (0.0, -1.0)),  # stem end
    ]
    points, normals, edge_ids = [], [], []
    for e, (axis, value, (lo, hi), normal) in enumerate(edges):
        n = max(2, int(round((hi - lo) / spacing)) + 1)
        for t in np.linspace(lo, hi, n):
            points.append((value, t) if axis == 0 else (t, value))
            normals.append(normal)
            edge_ids.append(e)
    return np.array(points), np.array(normals), np.array(edge_ids)


def _parabola_peak(left: float, mid: float, right: float) -> float:
    """Offset in [-0.5, 0.5] samples of the extremum of the parabola through three equally spaced values."""
    curvature = left - 2.0 * mid + right
    if not np.isfinite(curvature) or abs(curvature) < 1e-12:
        return 0.0
    return float(np.clip(0.5 * (left - right) / curvature, -0.5, 0.5))


def _inflated_corners(d: float) -> np.ndarray:
    """The T's outline offset outward by `d` px, as its 8 vertices in the T's frame (path waypoints)."""
    return np.array(
        [
            (-60 - d, -d),
            (60 + d, -d),
            (60 + d, 30 + d),
            (15 + d, 30 + d),
            (15 + d, 120 + d),
            (-15 - d, 120 + d),
            (-15 - d, 30 + d),
            (-60 - d, 30 + d),
        ]
    )


def corner_errors(poses: np.ndarray) -> np.ndarray:
    """Mean squared distance (px^2) of the T's corners to the goal's for poses `(..., 3)`."""
    c, s = np.cos(poses[..., 2]), np.sin(poses[..., 2])
    x = c[..., None] * CORNERS[:, 0] - s[..., None] * CORNERS[:, 1] + poses[..., 0, None]
    y = s[..., None] * CORNERS[:, 0] + c[..., None] * CORNERS[:, 1] + poses[..., 1, None]
    return np.mean((x - _GOAL_CORNERS[:, 0]) ** 2 + (y - _GOAL_CORNERS[:, 1]) ** 2, axis=-1)


_CENTROID = CORNERS.mean(axis=0)  # of the 8 corners, T frame
_SPREAD = float(np.mean(np.sum((CORNERS - _CENTROID) ** 2, axis=1)))  # their mean squared distance to it, px^2


def pose_errors(poses: np.ndarray) -> np.ndarray:
    """`corner_errors` with the angle taken as it is, not modulo 2 pi: `(..., 3)` -> px^2.

    The corner error is |d|^2 + 2 (1 - cos(dtheta)) M (d: offset of the corners' centroid, M: the
    corners' mean squared distance to it); this is |d|^2 + dtheta^2 M. Equal to second order at the
    goal, but its only minimum is the goal angle pi/4 itself, so the block is never turned toward
    pi/4 - 2 pi (the same pose for gym-pusht, another angle in the observed, unwrapped state)."""
    c, s = np.cos(poses[..., 2]), np.sin(poses[..., 2])
    x = c * _CENTROID[0] - s * _CENTROID[1] + poses[..., 0]
    y = s * _CENTROID[0] + c * _CENTROID[1] + poses[..., 1]
    gx, gy = _GOAL_CORNERS.mean(axis=0)
    return (x - gx) ** 2 + (y - gy) ** 2 + _SPREAD * (poses[..., 2] - GOAL[2]) ** 2


def predict_pushes(pose: np.ndarray, contacts: np.ndarray, normals: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Block poses `(K, S, 3)` after pushing contact k (body frame, `(K, 2)`, inward normals `(K, 2)`) by
    each length in `lengths` `(S,)` px, the pusher following the body-fixed normal (quasi-static,
    frictionless; see the module docstring)."""
    k2 = BLOCK_MOMENT
    arm = contacts - COG_LOCAL
    lever = arm[:, 0] * normals[:, 1] - arm[:, 1] * normals[:, 0]  # (K,) invariant under rotation
    denom = k2 + lever**2
    a = k2 / denom  # cog displacement per unit push
    b = lever / denom  # rotation per unit push, rad/px
    theta0 = pose[2]
    cog0 = _rot(theta0) @ COG_LOCAL + pose[:2]
    s = lengths[None, :]  # (1, S)
    theta = theta0 + b[:, None] * s  # (K, S)

    def antiderivative(phi):  # of R(phi) @ n over phi
        nx, ny = normals[:, 0, None], normals[:, 1, None]
        return np.stack([np.sin(phi) * nx + np.cos(phi) * ny, -np.cos(phi) * nx + np.sin(phi) * ny], -1)

    db = b[:, None] * s
    small = np.abs(db) < 1e-6
    safe = np.where(small, 1.0, db)
    turned = (antiderivative(theta) - antiderivative(np.full_like(theta, theta0))) / safe[..., None]
    straight = (_rot(theta0) @ normals.T).T[:, None, :]  # R(theta0) n, (K, 1, 2)
    direction = np.where(small[..., None], straight, turned)  # mean of R(phi) n over the push
    cog = cog0 + (a[:, None] * s)[..., None] * direction  # (K, S, 2)
    c, si = np.cos(theta), np.sin(theta)
    origin = cog - np.stack([c * COG_LOCAL[0] - si * COG_LOCAL[1], si * COG_LOCAL[0] + c * COG_LOCAL[1]], -1)
    return np.concatenate([origin, theta[..., None]], -1)


@dataclass
class PushTFeedbackExpertConfig:
    """Options of the state-feedback PushT expert (lengths in PushT pixels, board = 512)."""

    max_target_distance: float = 30.0
    """Farthest a commanded target may be from the agent, px (0: no cap)."""
    contact_spacing: float = 5.0
    """Spacing of the candidate contacts along the T's outline, px."""
    distance_scale: float = 80.0
    """Path length that discounts a contact's gain by a factor e, px: larger prefers better pushes over nearer ones."""
    max_push: float = 150.0
    """Longest push considered by the line search, px."""
    max_lead: float = 20.0
    """Farthest ahead of the touching position a push target goes, px."""
    approach_gap: float = 3.0
    """Distance between the agent's edge and the block at a pre-contact point, px."""
    shortest_turn: bool = False
    """Turn the block the shorter way to the goal angle, toward pi/4 or pi/4 - 2 pi (the corner error),
    instead of toward pi/4 itself (`pose_errors`). False keeps the observed (unwrapped) block angle in
    about [-pi, pi] and one goal angle in the demonstrations: easier to imitate, a little slower."""
    clearance: float = 2.0
    """Least distance kept between the agent's edge and the block while travelling, px."""


class PushTFeedbackExpert:
    """State-feedback expert: `act(state, agent_vel, coverage) -> (x, y)`, a function of `state` (and of
    `coverage`, itself a function of the block pose) only. See the module docstring.

    Args:
        config: options; any object with the fields of `PushTFeedbackExpertConfig`.
    """

    def __init__(self, config: PushTFeedbackExpertConfig | None = None):
        self.cfg = config or PushTFeedbackExpertConfig()
        self.contacts, self.normals, self.edges = outline_contacts(self.cfg.contact_spacing)
        self.lengths = np.arange(0.0, self.cfg.max_push + 1e-9, 2.0)

    def reset(self) -> None:
        """Nothing to forget (the expert has no memory); kept so it can replace `PushTExpert`."""

    # -- paths around the block ----------------------------------------------------------------
    def _clear(self, pose, a: np.ndarray, b: np.ndarray, threshold: np.ndarray) -> np.ndarray:
        """For segments a[i] -> b[i] `(M, 2)`: whether every point keeps the agent's centre more than
        threshold[i] px from the block and inside the walls. Returns (M,) bool."""
        length = np.linalg.norm(b - a, axis=1)
        n = int(min(max(length.max(initial=0.0) / 3.0, 2), 250)) + 1
        t = np.linspace(0.0, 1.0, n)
        pts = a[:, None, :] + t[None, :, None] * (b - a)[:, None, :]  # (M, n, 2)
        dist = _distance_to_block(pts.reshape(-1, 2), pose).reshape(len(a), n)
        inside = np.all((pts >= BOARD_MIN) & (pts <= BOARD_MAX), axis=(1, 2))
        return np.all(dist > threshold[:, None], axis=1) & inside

    def _paths(self, pose, agent, goals):
        """Shortest path lengths from `agent` to each of `goals` `(G, 2)` around the block, and the first
        waypoint of each. Returns ((G,) lengths, inf where unreachable; (G, 2) waypoints)."""
        cfg = self.cfg
        r = _rot(pose[2])
        free = AGENT_RADIUS + cfg.clearance
        verts = _inflated_corners(AGENT_RADIUS + cfg.clearance + 2.0) @ r.T + pose[:2]
        verts = verts[np.all((verts >= BOARD_MIN) & (verts <= BOARD_MAX), axis=1)]
        nodes = np.vstack([agent[None], verts])  # node 0: the agent
        n_nodes = len(nodes)
        # Near the block already (e.g. after a push), segments from the agent may stay as close as it is.
        start_free = min(free, float(_distance_to_block(agent[None], pose)[0]) - 0.5)
        ii, jj = np.triu_indices(n_nodes, 1)
        thr = np.where(ii == 0, start_free, free)
        vis = self._clear(pose, nodes[ii], nodes[jj], thr)
        w = np.full((n_nodes, n_nodes), np.inf)
        lengths = np.linalg.norm(nodes[ii] - nodes[jj], axis=1)
        w[ii[vis], jj[vis]] = lengths[vis]
        w[jj[vis], ii[vis]] = lengths[vis]
        # Dijkstra from the agent over the (at most 9) nodes.
        dist = np.full(n_nodes, np.inf)
        dist[0] = 0.0
        first = np.arange(n_nodes)  # first waypoint after the agent on the way to each node
        done = np.zeros(n_nodes, bool)
        for _ in range(n_nodes):
            u = int(np.argmin(np.where(done, np.inf, dist)))
            if not np.isfinite(dist[u]):
                break
            done[u] = True
            better = dist[u] + w[u] < dist
            dist[better] = dist[u] + w[u][better]
            first[better] = np.flatnonzero(better) if u == 0 else first[u]
        # Goals: reached from any node that sees them.
        gi = np.repeat(np.arange(n_nodes), len(goals))
        gg = np.tile(np.arange(len(goals)), n_nodes)
        thr = np.where(gi == 0, start_free, free)
        seen = self._clear(pose, nodes[gi], goals[gg], thr).reshape(n_nodes, len(goals))
        via = dist[:, None] + np.linalg.norm(nodes[:, None, :] - goals[None, :, :], axis=-1)
        via = np.where(seen & np.isfinite(dist)[:, None], via, np.inf)
        best = np.argmin(via, axis=0)
        length = via[best, np.arange(len(goals))]
        waypoint = np.where((best == 0)[:, None], goals, nodes[first[best]])
        return length, waypoint

    # -- the policy ----------------------------------------------------------------------------
    def act(self, state: np.ndarray, agent_vel=None, coverage: float | None = None) -> np.ndarray:
        """Target agent position (x, y) for the next control step, at most `max_target_distance` px
        from the agent.

        Args:
            state: [agent_x, agent_y, block_x, block_y, block_angle] (PushTEnv.get_state()).
            agent_vel: ignored (the target depends on the state only); accepted for `PushTExpert`'s interface.
            coverage: current goal coverage in [0, 1]; computed from the block pose when None.
        """
        state = np.asarray(state, dtype=np.float64)
        if coverage is None:
            from robotlearn.envs.pusht_expert import coverage as goal_coverage

            coverage = goal_coverage(state[2:5])
        agent = state[:2]
        if coverage > 0.95:  # solved: back away to 10 px from the block, then hold still
            pose = state[2:5]
            away = agent - (_rot(pose[2]) @ COG_LOCAL + pose[:2])
            gap = float(_distance_to_block(agent[None], pose)[0]) - AGENT_RADIUS
            return agent + away / max(np.linalg.norm(away), 1e-6) * float(np.clip(10.0 - gap, 0.0, 10.0))
        # Targets stay on the board: the (kinematic) agent would follow one through a wall and never return.
        target = np.clip(self._target(state), BOARD_MIN, BOARD_MAX)
        return cap_target(agent, target, self.cfg.max_target_distance)

    def _target(self, state: np.ndarray) -> np.ndarray:
        cfg = self.cfg
        agent, pose = state[:2], state[2:5]
        r = _rot(pose[2])
        poses = predict_pushes(pose, self.contacts, self.normals, self.lengths)
        error_of = corner_errors if cfg.shortest_turn else pose_errors
        errors = error_of(poses)  # (K, S)
        best_s = np.argmin(errors, axis=1)
        gain = error_of(pose) - errors[np.arange(len(errors)), best_s]
        contacts = self.contacts @ r.T + pose[:2]
        normals = self.normals @ r.T
        pre = contacts - normals * (AGENT_RADIUS + cfg.approach_gap)
        ok = (gain > 1e-6) & np.all((pre >= BOARD_MIN) & (pre <= BOARD_MAX), axis=1)
        if not ok.any():  # no push improves: nudge toward the centre of gravity
            return r @ COG_LOCAL + pose[:2]
        idx = np.flatnonzero(ok)
        length, waypoint = self._paths(pose, agent, pre[idx])
        score = np.log(gain[idx]) - length / cfg.distance_scale
        if not np.isfinite(score).any():  # boxed in: back away from the block's centre of gravity
            away = agent - (r @ COG_LOCAL + pose[:2])
            return agent + away / max(np.linalg.norm(away), 1e-6) * 10.0
        k = int(np.argmax(score))
        i = idx[k]
        # Between samples: the peak of the parabola through the scores of i and its neighbours on the
        # same edge, so the contact slides along the edge instead of jumping by contact_spacing.
        full = np.full(len(gain), -np.inf)
        full[idx] = score
        lo, hi = max(i - 1, 0), min(i + 1, len(gain) - 1)
        delta = 0.0
        if lo < i < hi and self.edges[lo] == self.edges[i] == self.edges[hi]:
            delta = _parabola_peak(full[lo], full[i], full[hi])
        j = hi if delta > 0 else lo
        frac = abs(delta) if np.isfinite(full[j]) else 0.0
        # The best push length, refined the same way on the line search's grid.
        e = errors[i]
        m = best_s[i]
        step = self.lengths[1] - self.lengths[0]
        s_i = self.lengths[m] + (step * _parabola_peak(e[m - 1], e[m], e[m + 1]) if 0 < m < len(e) - 1 else 0.0)
        e = errors[j]
        m = best_s[j]
        s_j = self.lengths[m] + (step * _parabola_peak(e[m - 1], e[m], e[m + 1]) if 0 < m < len(e) - 1 else 0.0)
        c = (1.0 - frac) * contacts[i] + frac * contacts[j]
        n = normals[i]
        best_length = (1.0 - frac) * s_i + frac * s_j
        t = np.array([-n[1], n[0]])
        along, lateral = float((agent - c) @ n), float((agent - c) @ t)
        touch = c - n * AGENT_RADIUS
        # Lead capped below max_target_distance, so the target also pulls the agent sideways onto c.
        push = touch + n * min(best_length, cfg.max_lead)
        # Blend from travelling (target: the pre-contact point) to pushing as the agent lines up behind c.
        # Laterally, full weight up to 10 px off: the block turning under a push drags the agent sideways.
        w_lat = np.clip((20.0 - abs(lateral)) / 10.0, 0.0, 1.0)
        w_along = np.clip((along + AGENT_RADIUS + cfg.approach_gap + 10.0) / 8.0, 0.0, 1.0)
        w = float(w_lat * w_along) if along < -AGENT_RADIUS + 3.0 else 0.0
        travel = waypoint[k]
        if np.allclose(travel, pre[i]):  # in sight: head for the refined pre-contact point
            travel = c - n * (AGENT_RADIUS + cfg.approach_gap)
        elif w > 0.0:
            w = 0.0  # the pre-contact point is not in sight: keep going around the block
        return (1.0 - w) * travel + w * push

    def act_env(self, env) -> np.ndarray:
        """Target agent position (x, y) for the next step of `env` (a `robotlearn.envs.PushTEnv`)."""
        return self.act(env.get_state(), env.agent_velocity(), env.coverage())


PUSHT_EXPERTS = ("planner", "feedback")
"""The scripted PushT experts: `planner` (PushTExpert) and `feedback` (PushTFeedbackExpert)."""


def make_pusht_expert(kind: str, config=None):
    """The scripted PushT expert `kind` ('planner' or 'feedback').

    Args:
        kind: one of `PUSHT_EXPERTS`.
        config: an object with `PushTExpertConfig`'s fields (e.g. the `scripted_pusht` teleoperator's
            config); the planner takes all of them, the feedback expert only `max_target_distance`
            (0, the planner's default of no cap, gives the feedback expert's default of 30 px).
    Raises:
        ValueError for an unknown `kind`.
    """
    if kind == "planner":
        return PushTExpert(config)
    if kind == "feedback":
        cap = getattr(config, "max_target_distance", 0.0) or PushTFeedbackExpertConfig.max_target_distance
        return PushTFeedbackExpert(PushTFeedbackExpertConfig(max_target_distance=cap))
    raise ValueError(f"unknown PushT expert {kind!r}: choose one of {', '.join(PUSHT_EXPERTS)}")
