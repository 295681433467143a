"""The robot side's action queue: actions keyed by the control tick they are for, chunks merged by a
named strategy. No clock in here: the caller says which tick it is, so the same queue runs in the
real client (`client.py`) and in the simulated-clock rollouts (`simulated.py`).

    queue = ActionQueue(merge="prefix")
    queue.add_chunk(obs_tick=40, chunk=actions, now_tick=43)   # actions[i] is for tick 40 + i
    action = queue.pop(43)                                      # actions[3]; None: nothing for tick 43

A chunk planned from the observation of tick t holds the actions for ticks t, t+1, ...; when it
arrives at tick now > t, the actions for ticks < now are dropped exactly (their time has passed).
Chunks are accepted only in increasing order of their observation tick: a duplicated, late or
reordered chunk is rejected whole, so the robot never executes an action older than one it has.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robotlearn.errors import ConfigError

# Element-wise merges of an overlapping (old, new) action pair: the reference's four
# (lerobot async_inference/configs.py: weighted_average 0.3/0.7, latest_only, average, conservative).
PAIR_MERGES = {
    "weighted_average": lambda old, new: 0.3 * old + 0.7 * new,
    "latest_only": lambda old, new: new,
    "average": lambda old, new: 0.5 * old + 0.5 * new,
    "conservative": lambda old, new: 0.7 * old + 0.3 * new,
}
MERGES = (*PAIR_MERGES, "prefix")
DEFAULT_MERGE = "prefix"


def check_merge(name: str) -> str:
    if name not in MERGES:
        import difflib

        close = difflib.get_close_matches(name, MERGES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"--merge={name!r} is not a merge strategy; choose one of {list(MERGES)}{hint}")
    return name


@dataclass
class MergeResult:
    accepted: bool
    dropped_stale: int = 0  # actions whose tick had passed
    merged: int = 0  # actions that overlapped queued ones
    added: int = 0  # actions for ticks nothing was queued for


class ActionQueue:
    """Actions by tick, merged chunk by chunk.

    Args:
        merge: one of MERGES. `prefix` (default): keep the queued actions for the next
            `commit_ticks` ticks unchanged (already committed: the robot may be executing them),
            then fade linearly from the queued to the new actions over `blend_ticks` ticks, then
            the new chunk alone; real-time chunking's frozen prefix without its guided inpainting
            (Black et al. 2025), which needs a flow policy.
        drop_stale: True: action i of a chunk is for tick obs_tick + i (past ticks dropped).
            False: the chunk is executed from the current tick on as if no time had passed (the
            naive queue; shown degrading in the tests and docs).
        commit_ticks, blend_ticks: see `prefix`.
    """

    def __init__(
        self, merge: str = DEFAULT_MERGE, drop_stale: bool = True, commit_ticks: int = 1, blend_ticks: int = 3
    ):
        self.merge = check_merge(merge)
        self.drop_stale = drop_stale
        self.commit_ticks = commit_ticks
        self.blend_ticks = blend_ticks
        self.clear()

    def clear(self) -> None:
        """Empties the queue and forgets chunk order (new episode)."""
        self.actions: dict[int, np.ndarray] = {}
        self.source: dict[int, int] = {}  # tick -> observation tick of the chunk the action came from
        self.latest_obs_tick = -1

    def size(self, tick: int) -> int:
        """Number of queued actions for ticks >= tick."""
        return sum(1 for t in self.actions if t >= tick)

    def upcoming(self, tick: int, n: int) -> np.ndarray | None:
        """The queued actions for ticks tick, tick+1, ... (at most n, stopping at the first tick with
        none), (m, A); None if nothing is queued for `tick`. What a policy that takes an action
        prefix is told the robot will execute while it plans (the committed actions)."""
        rows = []
        while len(rows) < n and tick + len(rows) in self.actions:
            rows.append(self.actions[tick + len(rows)])
        return np.stack(rows) if rows else None

    def add_chunk(self, obs_tick: int, chunk: np.ndarray, now_tick: int) -> MergeResult:
        """Merges `chunk` (n, A), planned from the observation of `obs_tick`, at tick `now_tick`
        (the next tick to execute). Rejected (accepted=False) unless obs_tick is newer than every
        chunk merged before."""
        if obs_tick <= self.latest_obs_tick:
            return MergeResult(accepted=False)
        self.latest_obs_tick = obs_tick
        chunk = np.asarray(chunk, dtype=np.float64)
        start = obs_tick if self.drop_stale else max(now_tick, obs_tick)
        result = MergeResult(accepted=True)
        k = 0  # index among the overlapping actions, for the prefix merge
        for i, new in enumerate(chunk):
            tick = start + i
            if tick < now_tick:
                result.dropped_stale += 1
                continue
            old = self.actions.get(tick)
            if old is None:
                self.actions[tick] = new
                result.added += 1
            else:
                self.actions[tick] = self._merge(old, new, k)
                result.merged += 1
                k += 1
            self.source[tick] = obs_tick
        return result

    def _merge(self, old: np.ndarray, new: np.ndarray, k: int) -> np.ndarray:
        if self.merge != "prefix":
            return PAIR_MERGES[self.merge](old, new)
        if k < self.commit_ticks:
            return old
        w = (k - self.commit_ticks + 1) / (self.blend_ticks + 1)  # weight of the new action, rising to 1
        return old + min(w, 1.0) * (new - old)

    def pop(self, tick: int) -> np.ndarray | None:
        """The action for `tick` (None if none is queued); actions for earlier ticks are discarded."""
        for t in [t for t in self.actions if t < tick]:
            del self.actions[t]
            self.source.pop(t, None)
        self.source.pop(tick, None)
        return self.actions.pop(tick, None)

    def source_of(self, tick: int) -> int | None:
        """Observation tick of the chunk that supplied the action queued for `tick`."""
        return self.source.get(tick)
