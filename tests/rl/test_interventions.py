"""Interventions: the scripted PushT expert standing in for a human (takes over when the policy
stalls, within a budget that falls over training; its steps go to the demo side of the learner),
the keyboard and a leader arm, engaged by a key typed into a real pseudo-terminal."""

import os
import pty
import sys
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from robotlearn.envs import PushTEnv, PushTEnvConfig
from robotlearn.errors import ConfigError
from robotlearn.rl.interventions import (
    InterventionConfig,
    KeyboardIntervention,
    ScriptedPushTIntervention,
    make_intervention,
)


def test_takes_over_a_stalled_policy_within_its_budget():
    env = PushTEnv(image_size=16, max_steps=None)
    env.reset(seed=0)
    source = ScriptedPushTIntervention(InterventionConfig(budget=0.3, decay_steps=400, patience=10, takeover_steps=5))
    idle = np.asarray(env.get_state()[:2], np.float32)  # a "policy" that never moves: no progress
    driven = []
    for step in range(400):
        action = source(env, None, idle)
        driven.append(action is not None)
        env.step(idle if action is None else action)
    driven = np.array(driven)
    first = int(np.argmax(driven))
    assert 10 <= first < 40  # after `patience` steps without progress, once the budget allows
    assert driven[first : first + 5].all() and not driven[first + 5]  # one takeover of 5 steps
    assert driven.mean() <= 0.3
    # the budget falls: more interventions in the first half than in the second
    assert driven[:200].sum() > driven[200:].sum() and source.budget_now() == 0.0


def test_intervention_steps_reach_the_demo_buffer(tmp_path):
    from robotlearn.policies.sac.config import SACConfig
    from robotlearn.rl.actor import Actor, ActorConfig
    from robotlearn.rl.learner import Learner, LearnerConfig

    state_inputs = ["observation.state", "observation.environment_state"]
    learner = Learner(
        LearnerConfig(
            env=PushTEnvConfig(image_size=16),
            policy=SACConfig(input_features=state_inputs, hidden_dims=[8]),
            output_dir=str(tmp_path / "rl"),
            port=0,
            learning_starts=10**9,
            export_root=str(tmp_path / "export"),
        ),
        token=b"",
    ).start()
    actor = Actor(
        ActorConfig(
            env=PushTEnvConfig(image_size=16),
            learner=learner.address,
            steps=120,
            max_episode_steps=60,
            intervention=InterventionConfig(type="scripted_pusht", budget=0.5, patience=5, takeover_steps=5),
        ),
        token=b"",
    )
    thread = threading.Thread(target=learner.run)
    learner.cfg.max_transitions = 120
    thread.start()
    result = actor.run()
    thread.join(180)  # generous: under a loaded make test the learner can take over a minute
    learner.stop()
    assert result["interventions"] > 0 and learner.streams.transitions == 120
    assert len(learner.demos) == learner.streams.interventions == result["interventions"]
    assert bool(learner.demos.intervention[learner.demos.valid].all())
    assert not bool(learner.online.intervention[learner.online.valid].any())
    assert len(learner.online) + len(learner.demos) == 120
    # the learning curve: every episode logged with its interventions, plotted in report.html
    from robotlearn.rl.report import read_jsonl

    episodes = read_jsonl(tmp_path / "rl" / "episodes.jsonl")
    assert len(episodes) == 2 and sum(e["interventions"] for e in episodes) == result["interventions"]
    assert all(e["steps"] == 60 for e in episodes)
    html = (tmp_path / "rl" / "report.html").read_text()
    assert html.count("<svg") >= 2 and "2 episodes, 120 transitions" in html
    # the run as a LeRobotDataset: every step received, the interventions marked; it loads back
    from robotlearn.datasets import LeRobotDataset
    from robotlearn.rl.buffer import ReplayBuffer
    from robotlearn.rl.dataset_io import load_dataset

    exported = LeRobotDataset("local/rl_run", root=tmp_path / "export")
    assert exported.num_episodes == 2 and len(exported) == 120
    assert sum(bool(exported[i]["intervention"]) for i in range(120)) == result["interventions"]
    again = ReplayBuffer({k: {"shape": list(v), "dtype": "float32"} for k, v in learner.shapes.items()}, 2, 500)
    assert load_dataset(again, tmp_path / "export") == 118  # 59 + 59: a truncated episode's last frame has no s'


@pytest.fixture
def terminal(monkeypatch):
    """A real pseudo-terminal as this process's stdin; yields the fd to type into."""
    from robotlearn.utils.terminal_keys import TerminalKeys

    master, slave = pty.openpty()
    stdin = os.fdopen(slave, "r")
    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.setattr(TerminalKeys, "_instance", None)
    yield master
    stdin.close()
    os.close(master)


def wait_queued(keys, n: int):
    deadline = time.monotonic() + 10
    while len(keys._events) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(keys._events) == n


def test_keyboard_moves_the_held_action_while_engaged(terminal):
    from gymnasium import spaces

    env = SimpleNamespace(action_space=spaces.Box(np.array([0, 0, -1.0]), np.array([10, 10, 1.0]), dtype=np.float64))
    source = KeyboardIntervention(InterventionConfig(type="keyboard", step=0.05))
    try:
        assert source.keys.reading
        policy = np.array([5.0, 5.0, 0.0], np.float32)
        os.write(terminal, b"\x1b[C")  # not engaged: ignored
        wait_queued(source.keys, 1)
        assert source(env, None, policy) is None
        os.write(terminal, b" \x1b[C\x1b[C\x1b[Aw")  # take over, right x2, up, w
        wait_queued(source.keys, 5)
        np.testing.assert_allclose(source(env, None, policy), [6.0, 4.5, 0.1])  # 0.05 of 10, of 10, of 2
        np.testing.assert_allclose(source(env, None, policy * 0), [6.0, 4.5, 0.1])  # held, whatever the policy does
        os.write(terminal, b" ")  # hand back
        wait_queued(source.keys, 1)
        assert source(env, None, policy) is None
    finally:
        source.close()
    delta = KeyboardIntervention(InterventionConfig(type="keyboard", mode="delta", step=0.5))
    try:
        os.write(terminal, b" a")  # a moves dimension 3, which this task has not: ignored
        wait_queued(delta.keys, 2)
        np.testing.assert_allclose(delta(env, None, policy), [0.0, 0.0, 0.0])  # the neutral action, clipped
        os.write(terminal, b"s")
        wait_queued(delta.keys, 1)
        np.testing.assert_allclose(delta(env, None, policy), [0.0, 0.0, -1.0])  # one step only...
        np.testing.assert_allclose(delta(env, None, policy), [0.0, 0.0, 0.0])  # ...then neutral again
    finally:
        delta.close()


def test_a_leader_arm_drives_the_robot_while_the_pedal_engages_it(terminal, tmp_path):
    """--intervention.type=teleop with the simulated leader arm on the simulated arm: engaged from the
    first step, every executed action is the leader's pose, clipped to the safety bounds."""
    from robotlearn.rl.actor import Actor, ActorConfig
    from robotlearn.rl.learner import Learner, LearnerConfig
    from robotlearn.rl.robot_env import RobotEnvConfig
    from robotlearn.rl.safety import SafetyConfig
    from robotlearn.rl.streams import StepLog
    from robotlearn.robots.sim_arm import SimArmConfig
    from robotlearn.teleoperators.sim_arm_leader import SimArmLeader, SimArmLeaderConfig

    env = RobotEnvConfig(robot=SimArmConfig(image_size=0), fps=200)
    learner = Learner(LearnerConfig(env=env, output_dir=str(tmp_path / "rl"), port=0, learning_starts=10**9), token=b"")
    learner.start()
    leader = SimArmLeaderConfig(amplitude_deg=80.0)
    cfg = ActorConfig(
        env=env,
        learner=learner.address,
        steps=40,
        intervention=InterventionConfig(type="teleop", teleop=leader, takeover_key="p"),
        safety=SafetyConfig(action_min=[-60], action_max=[60], estop_key=None),
    )
    actor = Actor(cfg, token=b"")
    os.write(terminal, b"p")  # the pedal, pressed before the first step
    wait_queued(actor.intervene.keys, 1)
    try:
        result = actor.run()
    finally:
        learner.stop()
    expected = np.clip([SimArmLeader(leader).position(i) for i in range(40)], -60, 60)
    messages = [m["steps"] for _, m in StepLog(tmp_path / "rl" / "steps").replay()]
    actions = np.concatenate([m["action"] for m in messages])
    assert np.concatenate([m["intervention"] for m in messages]).all() and result["interventions"] == 40
    np.testing.assert_allclose(actions, expected, atol=1e-4)
    assert result["clipped"] == 0  # the intervention clipped to the bounds itself
    assert (np.abs([SimArmLeader(leader).position(i) for i in range(40)]) > 60).any()  # it had to


def test_teleop_without_a_device_is_refused_with_the_flag_to_add():
    with pytest.raises(ConfigError, match="needs --intervention.teleop.type=NAME"):
        make_intervention(InterventionConfig(type="teleop"))
    with pytest.raises(ConfigError, match="that key moves the action"):
        InterventionConfig(type="keyboard", takeover_key="w")
