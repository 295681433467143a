"""record_loop on the simulated arm: frames stored, episode resets, exit_early, policies, timing stats."""

import sys

import numpy as np
import pytest
import torch

from robotlearn.datasets import LeRobotDataset
from robotlearn.recording import LoopStats, hw_to_dataset_features, record_loop
from robotlearn.recording.keyboard import new_events
from robotlearn.robots import RobotNotConnectedError
from robotlearn.robots.sim_arm import SimArm, SimArmConfig
from robotlearn.teleoperators.sim_arm_leader import SimArmLeader, SimArmLeaderConfig


def make_dataset(robot, root, fps=20):
    feats = {
        **hw_to_dataset_features(robot.action_features, "action", use_video=False),
        **hw_to_dataset_features(robot.observation_features, "observation", use_video=False),
    }
    return LeRobotDataset.create("t/arm", fps, feats, root=root, robot_type=robot.name, use_videos=False)


def test_robot_and_teleop_used_before_connect_raise_not_connected():
    with pytest.raises(RobotNotConnectedError):
        SimArm().get_observation()
    with pytest.raises(RobotNotConnectedError):
        SimArm().send_action({"shoulder.pos": 0.0, "elbow.pos": 0.0, "wrist.pos": 0.0})
    with pytest.raises(RobotNotConnectedError):
        SimArmLeader().get_action()
    robot = SimArm()
    with pytest.raises(RobotNotConnectedError):
        record_loop(robot, new_events(), fps=10, teleop=SimArmLeader(), control_time_s=0.1, realtime=False)


def test_loop_records_observation_before_action_and_the_action_sent(tmp_path):
    robot = SimArm(SimArmConfig(image_size=32))
    leader = SimArmLeader(SimArmLeaderConfig(fps=20))
    ds = make_dataset(robot, tmp_path / "ds")
    robot.connect()
    leader.connect()
    stats = record_loop(
        robot, new_events(), fps=20, teleop=leader, dataset=ds, control_time_s=0.5, single_task="wave", realtime=False
    )
    ds.save_episode()
    assert isinstance(stats, LoopStats) and stats.frames == 10
    assert len(stats.periods_s) == 10 and stats.mean_work_ms > 0
    # periods run from each cycle's start to the next one's (the last to the loop's end)
    assert sum(stats.periods_s) == pytest.approx(stats.duration_s)
    assert stats.mean_period_s == pytest.approx(stats.duration_s / 10)
    assert "frames" in stats.summary()
    ds = LeRobotDataset("t/arm", root=tmp_path / "ds")
    assert len(ds) == 10
    states = np.stack([ds[i]["observation.state"].numpy() for i in range(10)])
    actions = np.stack([ds[i]["action"].numpy() for i in range(10)])
    np.testing.assert_allclose(states[0], 0.0)  # observed before the first action
    np.testing.assert_allclose(actions, np.stack([leader.position(i) for i in range(10)]).astype(np.float32), atol=1e-4)
    # the rendered camera changes as the arm moves
    assert not torch.equal(ds[0]["observation.images.top"], ds[9]["observation.images.top"])


def test_new_episode_resets_the_sim_and_leader_but_the_reset_phase_does_not(tmp_path):
    robot = SimArm(SimArmConfig(image_size=0))
    leader = SimArmLeader()
    ds = make_dataset(robot, tmp_path / "ds")
    robot.connect()
    leader.connect()
    events = new_events()
    record_loop(robot, events, fps=20, teleop=leader, dataset=ds, control_time_s=0.25, single_task="a", realtime=False)
    ds.save_episode()
    record_loop(robot, events, fps=20, teleop=leader, control_time_s=0.25, realtime=False)  # reset phase
    moved = robot.q.copy()
    assert np.any(moved != 0) and leader.step == 10
    record_loop(robot, events, fps=20, teleop=leader, dataset=ds, control_time_s=0.25, single_task="a", realtime=False)
    ds.save_episode()
    ds = LeRobotDataset("t/arm", root=tmp_path / "ds")
    np.testing.assert_allclose(ds[5]["observation.state"].numpy(), 0.0)  # episode 1 starts from the reset pose


def test_exit_early_ends_the_loop_and_is_cleared():
    robot = SimArm(SimArmConfig(image_size=0))
    robot.connect()

    class StopAfter(SimArmLeader):
        def get_action(self):
            if self.step == 3:
                events["exit_early"] = True
            return super().get_action()

    events = new_events()
    leader = StopAfter()
    leader.connect()
    stats = record_loop(robot, events, fps=10, teleop=leader, control_time_s=10, realtime=False)
    assert stats.frames == 4 and events["exit_early"] is False


class LinearPolicy(torch.nn.Module):
    """A tiny real policy: action = W @ state + mean image brightness."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0]]))
        self.resets = 0
        self.seen = []

    def reset(self):
        self.resets += 1

    def select_action(self, batch):
        self.seen.append({k: (tuple(v.shape), v.dtype) for k, v in batch.items() if torch.is_tensor(v)})
        return (
            batch["observation.state"] @ self.w.T
            + torch.tensor([[10.0, 0.0, 0.0]]) * batch["observation.images.top"].mean()
        )


def test_policy_gets_batched_tensors_and_its_action_is_mapped_by_name(tmp_path):
    robot = SimArm(SimArmConfig(image_size=16))
    ds = make_dataset(robot, tmp_path / "ds")
    robot.connect()
    policy = LinearPolicy()
    record_loop(
        robot, new_events(), fps=10, policy=policy, dataset=ds, control_time_s=0.3, single_task="p", realtime=False
    )
    ds.save_episode()
    assert policy.resets == 1
    assert policy.seen[0] == {
        "observation.state": ((1, 3), torch.float32),
        "observation.images.top": ((1, 3, 16, 16), torch.float32),
    }
    ds = LeRobotDataset("t/arm", root=tmp_path / "ds")
    a = ds[1]["action"].numpy()
    brightness = ds[1]["observation.images.top"].mean().item()
    assert a[0] == pytest.approx(10 * brightness, abs=1e-3)  # shoulder goal from the image term
    assert a[2] == pytest.approx(ds[1]["observation.state"][0].item(), abs=1e-4)  # wrist goal = shoulder position


class FakeClock:
    """Stands in for the `time` module of record_loop: perf_counter() reads a simulated clock that
    only sleep() and the devices' simulated work advance (plus 1 us per reading, so the loop's
    busy-wait ends). Timing statistics then have exact expected values."""

    TICK_S = 1e-6

    def __init__(self):
        self.now = 1000.0

    def perf_counter(self) -> float:
        self.now += self.TICK_S
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(sys.modules[record_loop.__module__], "time", fake)
    return fake


class SlowLeader(SimArmLeader):
    """A leader whose get_action takes `work_s[step]` simulated seconds (default: none)."""

    def __init__(self, clock: FakeClock, work_s: dict[int, float]):
        super().__init__()
        self.clock, self.work_s = clock, work_s

    def get_action(self):
        self.clock.sleep(self.work_s.get(self.step, 0.0))
        return super().get_action()


def test_realtime_loop_counts_overruns_and_restarts_its_schedule_after_them(clock):
    robot = SimArm(SimArmConfig(image_size=0))
    robot.connect()
    leader = SlowLeader(clock, {3: 0.08, 6: 0.08})  # two cycles of 80 ms work at 20 fps (50 ms period)
    leader.connect()
    stats = record_loop(robot, new_events(), fps=20, teleop=leader, control_time_s=0.5)
    assert stats.frames == 10 and stats.realtime
    assert stats.overruns == 2
    # An overrun cycle lasts its 80 ms; the next one starts at once (no burst to catch up), so
    # every other period is 50 ms: periods 8 x 50 ms + 2 x 80 ms.
    expected = [0.08 if i in (3, 6) else 0.05 for i in range(10)]
    np.testing.assert_allclose(stats.periods_s, expected, atol=1e-4)
    assert stats.mean_period_error_ms == pytest.approx(6.0, abs=0.1)  # (8 * 50 + 2 * 80) / 10 - 50
    assert stats.max_jitter_ms == pytest.approx(30.0, abs=0.1)
    assert stats.p99_jitter_ms == pytest.approx(np.percentile([0.0] * 8 + [30.0] * 2, 99), abs=0.1)
    assert stats.mean_work_ms == pytest.approx(16.0, abs=0.1)  # 2 x 80 ms over 10 cycles
    assert "p99 jitter" in stats.summary() and "overruns 2" in stats.summary()


def test_realtime_loop_without_overruns_keeps_the_nominal_period(clock):
    robot = SimArm(SimArmConfig(image_size=0))
    robot.connect()
    leader = SlowLeader(clock, {i: 0.03 for i in range(10)})  # 30 ms of work in every 50 ms period
    leader.connect()
    stats = record_loop(robot, new_events(), fps=20, teleop=leader, control_time_s=0.5)
    assert stats.overruns == 0
    np.testing.assert_allclose(stats.periods_s, [0.05] * 10, atol=1e-4)
    assert stats.max_jitter_ms < 0.1 and stats.mean_work_ms == pytest.approx(30.0, abs=0.1)


def test_capture_time_is_stored_when_the_dataset_declares_it(tmp_path, clock):
    from robotlearn.recording import CAPTURE_TIME_KEY, capture_time_feature

    robot = SimArm(SimArmConfig(image_size=0))
    feats = {
        **hw_to_dataset_features(robot.action_features, "action"),
        **hw_to_dataset_features(robot.observation_features, "observation"),
        **capture_time_feature(),
    }
    ds = LeRobotDataset.create("t/arm", 50, feats, root=tmp_path / "ds", use_videos=False)
    robot.connect()
    leader = SimArmLeader()
    leader.connect()
    record_loop(robot, new_events(), fps=50, teleop=leader, dataset=ds, control_time_s=0.2, single_task="a")
    ds.save_episode()
    ds = LeRobotDataset("t/arm", root=tmp_path / "ds")
    times = np.array([float(ds[i][CAPTURE_TIME_KEY]) for i in range(len(ds))])
    # seconds since the loop started, at each cycle's start: k / fps on the simulated clock
    np.testing.assert_allclose(times, np.arange(10) / 50, atol=1e-4)


def test_end_on_success_stops_a_pusht_episode_at_its_first_successful_frame(tmp_path):
    pytest.importorskip("gym_pusht")
    from robotlearn.recording.features import reward_features
    from robotlearn.robots.sim_pusht import PushTRobot, PushTRobotConfig
    from robotlearn.teleoperators.scripted_pusht import ScriptedPushT

    robot = PushTRobot(PushTRobotConfig(image_size=16, seed=3))
    expert = ScriptedPushT(robot=robot)
    feats = {
        **hw_to_dataset_features(robot.action_features, "action", use_video=False),
        **hw_to_dataset_features(robot.observation_features, "observation", use_video=False),
        **robot.extra_dataset_features,
        **reward_features(),  # --dataset.rewards=true: what the simulator reported after each action
    }
    ds = LeRobotDataset.create("t/pusht", 10, feats, root=tmp_path / "ds", robot_type=robot.name, use_videos=False)
    robot.connect()
    expert.connect()
    stats = record_loop(
        robot,
        new_events(),
        fps=10,
        teleop=expert,
        dataset=ds,
        control_time_s=40,
        single_task="push",
        realtime=False,
        end_on_success=True,
    )
    ds.save_episode()
    assert robot.last_info["is_success"] and stats.frames < 400
    # Replaying the stored actions from the stored first state: success comes exactly at the last one.
    from robotlearn.envs.pusht import PushTEnv

    ds = LeRobotDataset("t/pusht", root=tmp_path / "ds")
    assert len(ds) == stats.frames
    env = PushTEnv(image_size=16, max_steps=None)
    env.reset_to_state(ds[0]["observation.environment_state"].numpy())
    steps = [env.step(ds[i]["action"].numpy()) for i in range(len(ds))]
    successes = [info["is_success"] for *_, info in steps]
    assert successes[-1] and not any(successes[:-1])
    # the reward columns say the same: success and done only on the last frame, the env's rewards
    assert [bool(ds[i]["next.success"]) for i in range(len(ds))] == successes
    assert [bool(ds[i]["next.done"]) for i in range(len(ds))] == successes
    np.testing.assert_allclose(
        [float(ds[i]["next.reward"]) for i in range(len(ds))], [r for _, r, *_ in steps], rtol=1e-6
    )
