"""Safety for real robots: every executed action (the policy's or a human's) is clipped to the bounds
and counted; the emergency stop sends nothing after it is read, holds the robot, marks the episode
and ends the actor with everything flushed, here through a real pseudo-terminal."""

import json
import os
import pty
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from gymnasium import spaces

from robotlearn.datasets import LeRobotDataset
from robotlearn.datasets.tools.validate import validate
from robotlearn.errors import ConfigError
from robotlearn.rl.actor import Actor, ActorConfig, ActorDatasetConfig
from robotlearn.rl.learner import Learner, LearnerConfig
from robotlearn.rl.safety import ActionBounds, SafetyConfig
from robotlearn.rl.streams import StepLog


@pytest.fixture(autouse=True)
def _no_stray_token(monkeypatch):
    monkeypatch.delenv("ROBOTLEARN_TOKEN", raising=False)


def logged_steps(run_dir) -> dict[str, np.ndarray]:
    """Every step the learner stored, concatenated in arrival order."""
    messages = [m["steps"] for _, m in StepLog(run_dir / "steps").replay()]
    return {k: np.concatenate([m[k] for m in messages]) for k in messages[0]}


def test_policy_and_human_actions_are_clipped_to_the_bounds_and_counted(tmp_path):
    learner = Learner(LearnerConfig(output_dir=str(tmp_path / "rl"), port=0, learning_starts=10**9), token=b"").start()

    def human(env, observation, policy_action):  # a human pushing far past the bounds every 3rd step
        human.calls += 1
        return np.array([10.0], np.float32) if human.calls % 3 == 0 else None

    human.calls = 0
    safety = SafetyConfig(action_min=[-0.5], action_max=[0.5])
    cfg = ActorConfig(learner=learner.address, steps=90, max_episode_steps=30, safety=safety)
    try:
        result = Actor(cfg, token=b"", intervene=human).run()
    finally:
        learner.stop()
    # until the first weights the policy acts uniformly in Pendulum's [-2, 2]: the same draws again
    space = spaces.Box(-2.0, 2.0, (1,), np.float32)
    space.seed(cfg.seed)
    policy = np.array([space.sample()[0] for _ in range(90)])
    intervened = (np.arange(1, 91) % 3) == 0
    expected = np.where(intervened, 0.5, np.clip(policy, -0.5, 0.5))
    steps = logged_steps(tmp_path / "rl")
    np.testing.assert_allclose(steps["action"][:, 0], expected, rtol=0, atol=1e-6)
    np.testing.assert_array_equal(steps["intervention"], intervened)
    assert result["clipped"] == int((intervened | (np.abs(policy) > 0.5)).sum())
    episodes = [json.loads(x) for x in (tmp_path / "rl" / "episodes.jsonl").read_text().splitlines()]
    assert [e["clipped"] for e in episodes] == [
        int((intervened | (np.abs(policy) > 0.5))[i : i + 30].sum()) for i in (0, 30, 60)
    ]


def test_a_trained_policy_pushing_past_the_bounds_is_clipped_at_every_step(tmp_path):
    learner = Learner(LearnerConfig(output_dir=str(tmp_path / "rl"), port=0, learning_starts=10**9), token=b"").start()
    last = learner.policy.actor.net[-1]
    with torch.no_grad():  # a policy whose every action is Pendulum's largest torque, +2
        last.weight.zero_()
        last.bias.copy_(torch.tensor([50.0, -50.0]))  # mean (normalized) far past tanh's range, log_std smallest
    learner.publish()
    cfg = ActorConfig(learner=learner.address, steps=1000, safety=SafetyConfig(action_max=[0.5]))
    try:
        result = Actor(cfg, token=b"").run()
    finally:
        learner.stop()
    assert result["version"] == 1
    actions = logged_steps(tmp_path / "rl")["action"][:, 0]
    # the actor explores uniformly until the weights are live, then the policy says +2 at every step:
    # the steps are k random draws (clipped at 0.5), then 0.5 only, for some k < 1000
    space = spaces.Box(-2.0, 2.0, (1,), np.float32)
    space.seed(cfg.seed)
    draws = np.array([space.sample()[0] for _ in range(1000)])
    random_prefix = np.concatenate([[True], np.cumprod(actions == np.minimum(draws, 0.5)).astype(bool)])
    policy_suffix = np.concatenate([np.cumprod((actions == 0.5)[::-1])[::-1].astype(bool), [True]])
    k = int(np.flatnonzero(random_prefix & policy_suffix)[0])
    assert k < 1000
    assert result["clipped"] == int((draws[:k] > 0.5).sum()) + (1000 - k)


def test_bounds_are_the_tightest_of_the_task_the_flags_and_the_dataset(tmp_path):
    ds = LeRobotDataset.create(
        "t/bounds",
        fps=10,
        root=tmp_path / "demo",
        features={"action": {"dtype": "float32", "shape": (2,), "names": None}},
    )
    for a in ([-0.3, 5.0], [0.4, -5.0], [0.0, 1.0]):
        ds.add_frame({"action": np.array(a, np.float32), "task": "t"})
    ds.save_episode()
    ds.finalize()
    space = spaces.Box(np.array([-1.0, -2.0], np.float32), np.array([1.0, 2.0], np.float32), dtype=np.float32)
    bounds = ActionBounds.from_config(SafetyConfig(action_max=[0.2, 9.0], bounds_root=str(tmp_path / "demo")), space)
    np.testing.assert_allclose(bounds.low, [-0.3, -2.0])  # the dataset's min, then the task's
    np.testing.assert_allclose(bounds.high, [0.2, 2.0])  # the flag's max, then the task's
    with pytest.raises(ConfigError, match="has 3 values; the action has 2 dimensions"):
        ActionBounds.from_config(SafetyConfig(action_min=[0, 0, 0]), space)
    with pytest.raises(ConfigError, match="exceeds --safety.action_max"):
        SafetyConfig(action_min=[1.0], action_max=[0.0])


def test_emergency_stop_sends_no_action_after_it_is_read_and_holds_the_robot(tmp_path):
    from robotlearn.rl.robot_env import RobotEnvConfig
    from robotlearn.robots.sim_arm import SimArmConfig

    env_cfg = RobotEnvConfig(robot=SimArmConfig(image_size=0), fps=200)
    learner = Learner(
        LearnerConfig(env=env_cfg, output_dir=str(tmp_path / "rl"), port=0, learning_starts=10**9), token=b""
    ).start()
    seen, sent = {}, []

    def stop_at_step_10(env, observation, policy_action):
        seen["env"], seen["calls"] = env, seen.get("calls", 0) + 1
        if seen["calls"] == 1:  # watch every action that reaches the (simulated) arm
            send = env.robot.send_action
            env.robot.send_action = lambda action: sent.append((dict(action), env.robot.q.copy())) or send(action)
        if seen["calls"] == 10:  # the key is read while the 10th action is being chosen
            actor.estop.pressed.set()
        return None

    cfg = ActorConfig(
        env=env_cfg, learner=learner.address, steps=1000, dataset=ActorDatasetConfig(root=str(tmp_path / "ds"))
    )
    actor = Actor(cfg, token=b"", intervene=stop_at_step_10)
    try:
        result = actor.run()
    finally:
        learner.stop()
    assert result["estop"] and result["steps"] == 9  # the 10th action was never sent
    assert seen["env"].held and len(sent) == 9 + 1  # 9 actions, then the hold
    hold, q = sent[-1]  # the hold: goal = where the joints were
    np.testing.assert_allclose([hold[f"{j}.pos"] for j in ("shoulder", "elbow", "wrist")], q, atol=1e-4)
    steps = logged_steps(tmp_path / "rl")
    assert len(steps["action"]) == 9 and steps["truncated"][-1] and not steps["truncated"][:-1].any()
    episode = json.loads((tmp_path / "rl" / "episodes.jsonl").read_text())
    assert episode["estop"] is True and episode["steps"] == 9
    ds = LeRobotDataset("local/rl_run", root=tmp_path / "ds")
    assert ds.num_episodes == 1 and len(ds) == 9
    assert [bool(ds[i]["estop"]) for i in range(9)] == [False] * 8 + [True]


def data_files(root) -> list:
    return sorted((root / "data").rglob("*.parquet"))


def _read_until(text: str, out: list[str], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if text in "".join(out):
            return
        time.sleep(0.05)
    raise AssertionError(f"no {text!r} in the actor's output:\n" + "".join(out))


def test_keyboard_takeover_and_emergency_stop_through_a_terminal(tmp_path):
    """A person at the actor's terminal (a simulated arm at 50 Hz): space takes over, right arrow x20
    pushes joint 0's action to its bound, escape stops. The actor exits 0 with every step taken at
    the learner and in the dataset, the episode marked."""
    from robotlearn.rl.robot_env import RobotEnvConfig
    from robotlearn.robots.sim_arm import SimArmConfig

    env_flags = ["--env.type=robot", "--env.robot.type=sim_arm", "--env.robot.image_size=0", "--env.fps=50"]
    env_cfg = RobotEnvConfig(robot=SimArmConfig(image_size=0), fps=50)
    learner = Learner(
        LearnerConfig(env=env_cfg, output_dir=str(tmp_path / "rl"), port=0, learning_starts=10**9), token=b""
    ).start()
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "robotlearn.scripts.cli", "rl-actor", *env_flags, f"--learner={learner.address}",
         "--intervention.type=keyboard", "--safety.action_min=-50", "--safety.action_max=50",
         f"--dataset.root={tmp_path / 'ds'}"],
        stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    os.close(slave)
    out: list[str] = []
    threading.Thread(target=lambda: out.extend(iter(proc.stdout.readline, "")), daemon=True).start()

    def wait_for_steps(done, what: str):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (tmp_path / "rl" / "steps" / "actor0").is_dir() and done(logged_steps(tmp_path / "rl")):
                return
            time.sleep(0.05)
        raise AssertionError(f"{what}; the actor said:\n" + "".join(out))

    try:
        _read_until("keys: escape: emergency stop, space: take over", out)
        wait_for_steps(lambda s: len(s["action"]) >= 10, "the actor is not acting")
        os.write(master, b" " + b"\x1b[C" * 20)
        wait_for_steps(lambda s: s["intervention"][-1] and s["action"][-1, 0] == 50.0, "no takeover")
        os.write(master, b"\x1b")
        assert proc.wait(timeout=60) == 0, "".join(out)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        os.close(master)
        learner.stop()
    text = "".join(out)
    assert "emergency stop: robot held" in text
    total = int(text.split("done: ")[1].split(" steps")[0])
    steps = logged_steps(tmp_path / "rl")
    assert len(steps["action"]) == total  # flushed: every step taken reached the learner
    assert np.abs(steps["action"]).max() <= 50.0
    engaged = steps["intervention"]
    first = int(np.argmax(engaged))
    assert 10 <= first and engaged[first:].all()  # taken over at one step, never handed back
    np.testing.assert_array_equal(steps["action"][-1], [50.0, *steps["action"][first, 1:]])  # only joint 0 moved
    assert steps["truncated"][-1]  # the episode ends at the stop
    ds = LeRobotDataset("local/rl_run", root=tmp_path / "ds")
    assert ds.num_episodes == 1 and len(ds) == total
    estop = np.concatenate(
        [pq.read_table(f, columns=["estop"]).column(0).to_numpy() for f in data_files(tmp_path / "ds")]
    )
    assert estop.tolist() == [False] * (total - 1) + [True]
    assert validate(tmp_path / "ds").ok
    episode = json.loads((tmp_path / "rl" / "episodes.jsonl").read_text())
    assert episode["estop"] and episode["steps"] == total and episode["interventions"] == total - first
