"""A scripted expert for Language PushT: get behind the named block, then push it to its corner.

    expert = LangPushTExpert()
    obs, info = env.reset(seed=0)
    expert.reset()
    while True:
        obs, reward, terminated, truncated, info = env.step(expert.act(env))
        if terminated or truncated:
            break

It reads the simulator's state (block and agent positions) and the episode's task, so it solves
every task; demonstrations recorded with it carry `info["task"]` as each frame's task. Stateless
between steps: each action depends only on the current positions.

Each step it aims at the goal `g` (the corner region's centre) from the block's centre `p` along
d = (g - p) / |g - p|. If the agent is behind the block on that line it pushes along d (correcting
its sideways offset); otherwise it walks around the block at a safe distance to the point behind it.
"""

from __future__ import annotations

import numpy as np

from robotlearn.envs.lang_pusht import AGENT_RADIUS, BLOCK_SIZE, LangPushTEnv, region_center, task_parts

CLEARANCE = BLOCK_SIZE / np.sqrt(2) + AGENT_RADIUS + 8
"""Distance (px) from a block's centre at which the agent circles it without touching it."""
STEP = 18.0
"""Largest move of the agent's target per control step, px."""


class LangPushTExpert:
    """Scripted policy for `LangPushTEnv` (reads the env's state; see the module docstring)."""

    def reset(self) -> None:
        """Nothing to clear (the expert keeps no state); kept for the policy-like interface."""

    def act(self, env: LangPushTEnv) -> np.ndarray:
        """The next action (x, y) target, float32 (2,), for the env's current state and task."""
        color, corner = task_parts(env.task_name)
        block, agent = env.block_position(color), env.agent_position()
        goal = region_center(corner)
        to_goal = goal - block
        d = to_goal / max(np.linalg.norm(to_goal), 1e-6)
        n = np.array([-d[1], d[0]])
        rel = agent - block
        along, lateral = float(rel @ d), float(rel @ n)
        contact = BLOCK_SIZE / 2 + AGENT_RADIUS
        # Angle (rad) round the block from the agent to the point behind it (-d), signed.
        gap = float(np.arctan2(rel @ -n, rel @ -d))
        if along < 0 and abs(lateral) < 12 and -along < contact + 30:
            # Behind the block on the push line: push along d, steering back onto the line.
            target = agent + d * STEP - n * lateral * 0.7
        elif abs(gap) < np.radians(35) and np.linalg.norm(rel) > contact:
            # Behind, a little off the line: go straight to the point just behind the block.
            target = block - d * (contact - 2)
        else:
            # Elsewhere: orbit the block at a safe radius toward the point behind it.
            radius = CLEARANCE * 1.1
            angle = float(np.arctan2(rel[1], rel[0])) - np.sign(gap) * min(abs(gap), np.radians(40))
            target = block + radius * np.array([np.cos(angle), np.sin(angle)])
        move = target - agent
        dist = np.linalg.norm(move)
        if dist > STEP:
            target = agent + move / dist * STEP
        return np.clip(target, 0.0, 512.0).astype(np.float32)
