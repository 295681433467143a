"""The control loop of a recording session: observe, act (teleoperator or policy), store, wait.

    stats = record_loop(robot, events, fps=30, teleop=teleop, dataset=dataset,
                        control_time_s=60, single_task="pick the cube")

One cycle, at a fixed rate:
    1. obs = robot.get_observation()               (its read time is the frame's capture time)
    2. action = teleop.get_action()  or  policy.select_action(obs as tensors)
    3. sent = robot.send_action(action)            (the action stored is the one actually sent)
    4. dataset.add_frame(obs + sent + task [+ extras the dataset declares])
    5. sleep until the next tick of the schedule

With `end_on_success=True` the loop also ends at the first cycle after which a simulated robot
reports success (`robot.last_info["is_success"]`, a `SimRobot`).

The schedule is absolute (tick k at start + k / fps, `time.perf_counter`), so small delays do not
accumulate; a cycle that overruns its period is counted and the schedule restarts from now
instead of rushing to catch up. Every cycle is measured and the loop returns `LoopStats`.
Datasets store nominal timestamps (frame_index / fps); if the dataset declares
`observation.capture_time` (see `capture_time_feature()`), the measured time of each
observation is stored there too, so a slow loop is visible in the data rather than silently
time-dilated.

`realtime=False` skips the sleeps: simulated robots then run as fast as they can (tests, batch
generation); the frame count is the same.

Episode start: when recording (a dataset is given), simulated robots draw a new initial state
(`SimRobot.reset_episode()`), and the teleoperator (`reset()`) and the policy
(`reset()`) start afresh. The reset phase (no dataset) leaves the robot as it is.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from robotlearn.recording.features import CAPTURE_TIME_KEY, REWARD_KEYS, build_dataset_frame, hw_to_dataset_features
from robotlearn.robots.sim_robot import SimRobot
from robotlearn.utils.device import module_device

log = logging.getLogger("robotlearn.recording")

SPIN_S = 0.001  # the last millisecond before a tick is busy-waited: time.sleep overshoots by ~0.1-1 ms


def precise_sleep_until(deadline: float) -> None:
    """Sleep until `time.perf_counter() >= deadline`: coarse sleep, then a short busy wait."""
    while True:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return
        if remaining > SPIN_S:
            time.sleep(remaining - SPIN_S)


@dataclass
class LoopStats:
    """Timing of one `record_loop` call. Periods are between consecutive cycle starts."""

    fps: float
    frames: int = 0
    duration_s: float = 0.0
    mean_period_s: float = float("nan")
    mean_period_error_ms: float = float("nan")  # mean(period) - 1/fps
    p99_jitter_ms: float = float("nan")  # 99th percentile of |period - 1/fps|
    max_jitter_ms: float = float("nan")
    mean_work_ms: float = float("nan")  # observe + act + store, without the sleep
    overruns: int = 0  # cycles whose work took longer than 1/fps
    realtime: bool = True
    periods_s: list[float] = field(default_factory=list, repr=False)

    @property
    def measured_fps(self) -> float:
        return 1.0 / self.mean_period_s if self.mean_period_s > 0 else float("nan")

    def summary(self) -> str:
        """One line: frames, measured rate, period error, p99 jitter, overruns."""
        if not self.realtime:
            return (
                f"{self.frames} frames in {self.duration_s:.2f}s (as fast as possible, not real time): "
                f"{self.measured_fps:.1f} frames/s, work {self.mean_work_ms:.1f} ms/cycle"
            )
        return (
            f"{self.frames} frames in {self.duration_s:.2f}s: {self.measured_fps:.2f} Hz (target {self.fps:g}), "
            f"period error {self.mean_period_error_ms:+.3f} ms, p99 jitter {self.p99_jitter_ms:.3f} ms, "
            f"work {self.mean_work_ms:.1f} ms/cycle, overruns {self.overruns}"
        )


def _finish_stats(stats: LoopStats, starts: list[float], works: list[float], end: float) -> LoopStats:
    period = 1.0 / stats.fps
    stats.frames = len(starts)
    if starts:
        stats.duration_s = end - starts[0]
        edges = np.array(starts + [end])
        periods = np.diff(edges)
        stats.periods_s = periods.tolist()
        stats.mean_period_s = float(periods.mean())
        stats.mean_period_error_ms = (stats.mean_period_s - period) * 1e3
        jitter = np.abs(periods - period) * 1e3
        stats.p99_jitter_ms = float(np.percentile(jitter, 99))
        stats.max_jitter_ms = float(jitter.max())
        stats.mean_work_ms = float(np.mean(works) * 1e3)
        stats.overruns = int(np.sum(np.array(works) > period))
    return stats


# -- policies ---------------------------------------------------------------------------------------
def policy_action_to_dict(action, names: list[str]) -> dict[str, float]:
    """Policy output tensor (1, A) or (A,) -> {name: float} in the order of the action feature's names."""
    values = np.asarray(action.detach().cpu().numpy() if hasattr(action, "detach") else action, dtype=np.float64)
    values = values.reshape(-1)
    if values.size != len(names):
        raise ValueError(
            f"policy returned {values.size} action values but the robot's action has {len(names)}: {names}"
        )
    return {name: float(v) for name, v in zip(names, values)}


# -- the loop ---------------------------------------------------------------------------------------
def record_loop(
    robot,
    events: dict[str, bool],
    fps: float,
    teleop=None,
    policy=None,
    dataset=None,
    control_time_s: float | None = None,
    single_task: str | None = None,
    display_data: bool = False,
    realtime: bool = True,
    on_step=None,
    end_on_success: bool = False,
) -> LoopStats:
    """Run the control loop for `control_time_s` seconds (`round(control_time_s * fps)` cycles) or
    until `events["exit_early"]`; store frames in `dataset` if given. See the module docstring.

    Args:
        robot: a connected `Robot`.
        events: flags from `init_keyboard_listener()`; `exit_early` is cleared when it ends the loop.
        fps: control rate (Hz).
        teleop: a connected `Teleoperator` (ignored when `policy` is given).
        policy: object with `select_action(batch) -> tensor (1, A)` and `reset()`.
        dataset: a `LeRobotDataset` open for writing, or None (reset phase, teleoperate).
        control_time_s: duration in seconds (None: until exit_early).
        single_task: the task string stored with each frame (required with a dataset, unless the robot is
            a simulator whose `episode_task()` names each episode's instruction).
        display_data: send observations and actions to rerun (see `init_rerun`).
        realtime: False = do not sleep between cycles (simulated robots only).
        on_step: called with no argument after each cycle (e.g. a progress bar's update).
        end_on_success: end the loop after the first cycle at which a simulated robot reports
            `last_info["is_success"]` (that frame is stored). Demonstrations then stop where an
            evaluation would, instead of holding still until the time is up.
    Returns:
        LoopStats with the measured timing.
    """
    if teleop is None and policy is None:
        log.warning("record_loop: no teleoperator and no policy; observing only (the robot receives no actions)")

    if dataset is not None:
        features = dataset.meta.features
    else:
        features = {
            **hw_to_dataset_features(robot.action_features, "action"),
            **hw_to_dataset_features(robot.observation_features, "observation"),
        }
    action_names = features["action"]["names"] if "action" in features else list(robot.action_features)
    # Extras the robot can provide and the dataset declares (e.g. observation.environment_state).
    sim = robot if isinstance(robot, SimRobot) else None
    extra_keys = (
        [k for k in sim.extra_dataset_features if k in features] if sim is not None and dataset is not None else []
    )
    want_capture_time = dataset is not None and CAPTURE_TIME_KEY in features
    want_rewards = dataset is not None and sim is not None and all(k in features for k in REWARD_KEYS)

    if dataset is not None:
        if sim is not None:
            sim.reset_episode()
        # A multi-task simulator names the episode's instruction (SimRobot.episode_task).
        single_task = (sim.episode_task() if sim is not None else None) or single_task
        if not single_task:
            raise ValueError(
                "record_loop: single_task (the task description) is required when recording into a dataset"
            )
        if teleop is not None and policy is None:
            teleop.reset()
        if policy is not None:
            policy.reset()
    device = policy_features = None
    if policy is not None:
        from robotlearn.policies.observation import observation_to_batch
        from robotlearn.policies.policy import Policy

        device = module_device(policy)
        # Only the keys a robotlearn Policy uses; other policy-like objects get every observation key.
        policy_features = policy.config.features if isinstance(policy, Policy) else None
    if display_data:
        from robotlearn.recording.feedback import log_rerun_data

    n_cycles = None if control_time_s is None else int(round(control_time_s * fps))
    period = 1.0 / fps
    stats = LoopStats(fps=fps, realtime=realtime)
    starts: list[float] = []
    works: list[float] = []
    start = time.perf_counter()
    next_tick = start
    while n_cycles is None or len(starts) < n_cycles:
        t0 = time.perf_counter()
        starts.append(t0)
        obs = robot.get_observation()
        obs_frame = build_dataset_frame(features, obs, "observation")
        if extra_keys:  # read with the observation, before the action changes the state
            extras = robot.get_extra_observation()
            obs_frame.update({key: extras[key] for key in extra_keys})

        if policy is not None:
            import torch

            with torch.inference_mode():
                out = policy.select_action(observation_to_batch(obs_frame, policy_features, device, single_task))
            action = policy_action_to_dict(out, action_names)
        elif teleop is not None:
            action = teleop.get_action()
        else:
            action = None
        sent = robot.send_action(action) if action is not None else None

        if dataset is not None and sent is not None:
            frame = {**obs_frame, **build_dataset_frame(features, sent, "action"), "task": single_task}
            if want_capture_time:
                frame[CAPTURE_TIME_KEY] = np.array([t0 - start], dtype=np.float32)
            if want_rewards:  # what the simulator reported after this action
                info = sim.last_info or {}
                success = bool(info.get("is_success", False))
                frame["next.reward"] = np.array([info.get("reward", 0.0)], dtype=np.float32)
                frame["next.success"] = np.array([success])
                frame["next.done"] = np.array([success])
            dataset.add_frame(frame)
        if display_data:
            log_rerun_data(obs, sent or {})

        works.append(time.perf_counter() - t0)
        if on_step is not None:
            on_step()
        if events.get("exit_early"):
            events["exit_early"] = False
            break
        if end_on_success and sent is not None and sim is not None and sim.last_info.get("is_success"):
            break
        next_tick += period
        if realtime:
            now = time.perf_counter()
            if now > next_tick:  # overran: restart the schedule from now rather than bursting
                next_tick = now
            else:
                precise_sleep_until(next_tick)
    end = time.perf_counter()
    _finish_stats(stats, starts, works, end)
    if realtime and stats.frames > 10 and stats.measured_fps < 0.95 * fps:
        log.warning(
            "record_loop ran at %.1f Hz, below the requested %g fps: dataset timestamps are nominal (frame_index/fps); "
            "declare observation.capture_time to keep the measured times",
            stats.measured_fps,
            fps,
        )
    log.info("record_loop: %s", stats.summary())
    return stats
