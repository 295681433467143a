"""The scripted PushT expert standing in for a human: takes over when the policy stalls, within a
budget that falls over training; its steps are marked and go to the demo side of the learner."""

import threading

import numpy as np

from robotlearn.envs import PushTEnv, PushTEnvConfig
from robotlearn.rl.interventions import InterventionConfig, ScriptedPushTIntervention


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
    thread.join(60)
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
