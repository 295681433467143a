"""Async inference on a simulated clock: the server's delay applied exactly in control ticks.

The same `ActionQueue` as the networked client, with the policy called in-process and its chunk
delivered `delay_ticks` ticks after the observation it was planned from. Each tick either executes
the queued action for that tick (one simulator step) or holds (no action: a simulated robot stays
where it is and its world does not move, as `sim_pusht` does when no action is sent). An episode is
`max_steps` executed actions (or ends at success); holds add ticks, not steps. So

    sync:  the robot waits for every chunk (the policy in the control loop): delay_ticks idle
           ticks per chunk, the same states as delay 0.
    async: a new observation is sent when the queue falls to `threshold` actions; actions for
           ticks that passed while the chunk was computed are dropped (or, with drop_stale=False,
           executed late as if no time had passed: the naive queue).

Used for success parity (tests/inference/test_simulated.py) and the seam smoothness report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from robotlearn.inference.queue import DEFAULT_MERGE, ActionQueue


@dataclass
class EpisodeTrace:
    seed: int
    success: bool = False
    steps: int = 0  # executed actions
    ticks: int = 0  # control ticks (steps + holds)
    idle_ticks: int = 0  # holds after the first chunk arrived
    first_chunk_ticks: int = 0  # ticks waited for the episode's first chunk (excluded from idle rates)
    chunks: int = 0
    actions: list = field(default_factory=list)  # executed actions, (A,) each
    sources: list = field(default_factory=list)  # observation tick of the chunk each came from


def chunk_function(policy):
    """(numpy observation dict, action prefix (d, A) or None) -> (n, A) numpy chunk, through
    `observation_to_batch` and the policy's `predict_action_chunk` (any robotlearn Policy, or
    PushTExpertChunkPolicy)."""
    import torch

    from robotlearn.policies.observation import observation_to_batch
    from robotlearn.policies.policy import ACTION_PREFIX_KEY

    features = policy.config.features

    def fn(observation: dict, prefix: np.ndarray | None = None) -> np.ndarray:
        batch = observation_to_batch(observation, features, policy.device)
        if prefix is not None:
            batch[ACTION_PREFIX_KEY] = torch.as_tensor(prefix, dtype=torch.float32, device=policy.device)[None]
        with torch.no_grad():
            chunk = policy.predict_action_chunk(batch)
        return chunk[0].float().cpu().numpy()

    return fn


def env_policy_observation(obs: dict, env, features: dict) -> dict:
    """The env's observation plus the simulator's exact state and velocities when the policy uses them."""
    from robotlearn.envs.pusht import ENV_STATE_KEY
    from robotlearn.inference.expert_chunks import AGENT_VELOCITY_KEY, pusht_velocities

    obs = dict(obs)
    if ENV_STATE_KEY in features:
        obs[ENV_STATE_KEY] = np.asarray(env.get_state(), dtype=np.float32)
    if AGENT_VELOCITY_KEY in features:
        obs[AGENT_VELOCITY_KEY] = pusht_velocities(env)
    return obs


def simulate_episode(
    policy,
    env,
    seed: int,
    delay_ticks: int,
    n_action_steps: int = 8,
    mode: str = "async",
    merge: str = DEFAULT_MERGE,
    drop_stale: bool = True,
    threshold: int | None = None,
    max_steps: int = 300,
    chunk_fn=None,
    action_prefix: bool = True,
) -> EpisodeTrace:
    """One PushT episode from `env.reset(seed=seed)` with the delay applied in ticks.

    Args:
        policy: has `reset()`, `config.features` and `predict_action_chunk` (or pass `chunk_fn`).
        delay_ticks: ticks between sending an observation and its chunk being usable (>= 0).
        n_action_steps: actions executed per chunk; async requests the next chunk when
            `threshold` actions are left (default len(chunk) - n_action_steps, i.e. every
            n_action_steps ticks), sync when the queue is empty and then uses n_action_steps.
        mode: "sync" or "async".
        action_prefix: async, with a policy whose `config.action_prefix_capacity` > 0: send the
            queued actions for the ticks the last chunk took to arrive (the delay as measured, not
            as given), as the robot client does; False: never.
    """
    import torch

    if mode not in ("sync", "async"):
        raise ValueError(f"mode must be sync or async, got {mode!r}")
    fn = chunk_fn or chunk_function(policy)
    features = policy.config.features
    policy.reset()
    torch.manual_seed(seed)
    obs, _ = env.reset(seed=seed)
    queue = ActionQueue(merge=merge, drop_stale=drop_stale)
    capacity = getattr(policy.config, "action_prefix_capacity", 0) if action_prefix and mode == "async" else 0
    measured_delay = 0  # ticks the last chunk took to arrive
    trace = EpisodeTrace(seed=seed)
    in_flight = None  # (arrival tick, observation tick, chunk)
    got_first = False
    chunk_len = None  # known after the first chunk
    tick = 0
    while trace.steps < max_steps:
        if in_flight is not None and in_flight[0] <= tick:
            # sync: the robot waited (nothing moved), so the chunk starts now, as in the client's sync mode
            queue.add_chunk(tick if mode == "sync" else in_flight[1], in_flight[2], tick)
            measured_delay = tick - in_flight[1]
            in_flight, got_first = None, True
        size = queue.size(tick)
        if in_flight is None:
            if mode == "sync" or chunk_len is None:
                want = size == 0
            else:
                want = size <= (threshold if threshold is not None else chunk_len - n_action_steps)
            if want:
                observation = env_policy_observation(obs, env, features)
                prefix = queue.upcoming(tick, min(capacity, measured_delay)) if capacity else None
                chunk = fn(observation) if prefix is None else fn(observation, prefix)
                chunk_len = len(chunk)
                if mode == "sync":
                    chunk = chunk[:n_action_steps]
                trace.chunks += 1
                if delay_ticks == 0:
                    queue.add_chunk(tick, chunk, tick)
                    got_first = True
                else:
                    in_flight = (tick + delay_ticks, tick, chunk)
        source = queue.source_of(tick)
        action = queue.pop(tick)
        tick += 1
        if action is None:
            if got_first:
                trace.idle_ticks += 1
            else:
                trace.first_chunk_ticks += 1
            continue
        obs, _, terminated, _, info = env.step(action)
        trace.actions.append(action)
        trace.sources.append(source)
        trace.steps += 1
        if info.get("is_success"):
            trace.success = True
            break
    trace.ticks = tick
    return trace


def seam_deltas(trace: EpisodeTrace) -> tuple[np.ndarray, np.ndarray]:
    """(|Δaction| at chunk switches, |Δaction| within chunks): max-abs change between consecutive
    executed actions, split by whether they came from different chunks."""
    seam, within = [], []
    for i in range(1, len(trace.actions)):
        d = float(np.max(np.abs(np.asarray(trace.actions[i]) - np.asarray(trace.actions[i - 1]))))
        (seam if trace.sources[i] != trace.sources[i - 1] else within).append(d)
    return np.asarray(seam), np.asarray(within)
