"""Meta-World MT10 (state only): the env wrapper, its scripted demonstrations through `robotlearn
record`, and per-task evaluation."""

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

# find_spec, not importorskip: importing metaworld here (at collection) would import MuJoCo before the
# env sets its headless backend (MUJOCO_GL=egl), breaking gym_hil's rendering in the same process.
if importlib.util.find_spec("metaworld") is None:
    pytest.skip("Meta-World is the 'metaworld' extra: pip install 'robotlearn[metaworld]'", allow_module_level=True)

from robotlearn.datasets import LeRobotDataset
from robotlearn.envs import MetaWorldEnvConfig, make_env
from robotlearn.envs.meta_world import MT10, MT10_INSTRUCTIONS, MetaWorldEnv, scripted_action
from robotlearn.evaluation import EpisodesConfig, EvalConfig, run_eval
from robotlearn.evaluation.expert import MetaWorldExpertPolicy


def test_a_scripted_drawer_open_episode_succeeds_and_names_its_instruction():
    env = make_env(MetaWorldEnvConfig(task="drawer-open-v3"), max_steps=500)
    obs, info = env.reset(seed=3)
    assert obs["observation.state"].shape == (39,) and obs["observation.state"].dtype == np.float32
    assert info["task"] == "open the drawer" and info["task_name"] == "drawer-open-v3"
    for step in range(500):
        obs, reward, terminated, truncated, info = env.step(scripted_action(info["task_name"], env.state()))
        if terminated or truncated:
            break
    assert terminated and info["is_success"] and not truncated and step < 200
    frame = env.render()
    assert frame.shape == (128, 128, 3) and len(np.unique(frame.reshape(-1, 3), axis=0)) >= 4  # dots drawn
    env.close()


def test_the_same_seed_gives_the_same_episode_and_seeds_cover_the_tasks():
    assert MetaWorldEnv(task="mt10").tasks == MT10
    three = ["reach-v3", "push-v3", "drawer-close-v3"]
    env = MetaWorldEnv(task=",".join(three))
    first = env.reset(seed=11)
    again = env.reset(seed=11)
    np.testing.assert_array_equal(first[0]["observation.state"], again[0]["observation.state"])
    assert first[1]["task_name"] == again[1]["task_name"] and first[1]["variation"] == again[1]["variation"]
    episodes = [env.reset(seed=s)[1] for s in range(15)]
    assert {e["task_name"] for e in episodes} == set(three)
    assert len({(e["task_name"], e["variation"]) for e in episodes}) >= 12  # object/goal positions vary too
    with pytest.raises(ValueError, match="unknown Meta-World task"):
        MetaWorldEnv(task="drawer-opne-v3")
    env.close()


def test_record_with_the_scripted_policies_stores_each_tasks_instruction(tmp_path):
    root = tmp_path / "mt"
    args = [
        "--robot.type=sim_metaworld",
        "--robot.task=reach-v3,drawer-close-v3",
        "--robot.seed=0",
        "--teleop.type=scripted_metaworld",
        f"--dataset.root={root}",
        "--dataset.num_episodes=2",
        "--dataset.fps=80",
        "--dataset.episode_time_s=6.25",
        "--dataset.reset_time_s=0",
        "--dataset.realtime=false",
        "--play_sounds=false",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "robotlearn.scripts.cli", "record", *args],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    ds = LeRobotDataset("local/recording", root=root)
    lengths = [e["length"] for e in ds.meta.episodes]
    assert len(lengths) == 2 and all(n < 500 for n in lengths)  # each ended on success
    assert ds[0]["task"] == MT10_INSTRUCTIONS["reach-v3"]
    assert ds[lengths[0]]["task"] == MT10_INSTRUCTIONS["drawer-close-v3"]
    assert ds.meta.features["observation.state"]["shape"] == [39]
    assert ds.meta.features["action"]["names"] == ["dx", "dy", "dz", "grip"]
    assert float(ds[5]["action"].abs().max()) <= 1.0


def test_eval_reports_the_scripted_policies_success_per_mt10_task(tmp_path):
    cfg = EvalConfig(
        env=MetaWorldEnvConfig(task="push-v3,window-close-v3"),
        eval=EpisodesConfig(n_episodes=4, seed=200, max_steps=500, n_videos=1),
        output_dir=str(tmp_path),
        progress=False,
    )
    run_eval(cfg, policy=MetaWorldExpertPolicy())
    saved = json.loads((tmp_path / "eval_info.json").read_text())
    assert set(saved["per_task"]) <= {"push-v3", "window-close-v3"}
    assert sum(r["n_episodes"] for r in saved["per_task"].values()) == 4
    assert saved["aggregated"]["success_rate"] >= 0.75
    assert (tmp_path / "videos" / "eval_episode_0.mp4").stat().st_size > 0
