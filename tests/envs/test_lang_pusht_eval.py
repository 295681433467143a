"""`robotlearn eval` on the language benchmark reports success per task and overall."""

import json

import pytest

pytest.importorskip("pymunk")

from robotlearn.envs import LangPushTEnvConfig
from robotlearn.evaluation import EpisodesConfig, EvalConfig, eval_summary_line, run_eval
from robotlearn.evaluation.expert import LangPushTExpertPolicy


def test_eval_of_the_expert_reports_each_task_and_the_overall_rate(tmp_path):
    cfg = EvalConfig(
        env=LangPushTEnvConfig(task="red_top_left,green_bottom_right", paraphrases="heldout", image_size=32),
        eval=EpisodesConfig(n_episodes=6, seed=500, max_steps=200, n_videos=0),
        output_dir=str(tmp_path),
        progress=False,
    )
    results = run_eval(cfg, policy=LangPushTExpertPolicy())
    saved = json.loads((tmp_path / "eval_info.json").read_text())
    per_task = saved["per_task"]
    assert sorted(per_task) == ["green_bottom_right", "red_top_left"]
    episodes = saved["per_episode"]
    assert sum(r["n_episodes"] for r in per_task.values()) == 6
    for task, r in per_task.items():  # each task's rate is the mean over exactly its own episodes
        mine = [e["success"] for e in episodes if e["task"] == task]
        assert r["n_episodes"] == len(mine) and r["success_rate"] == sum(mine) / len(mine)
    assert saved["aggregated"]["success_rate"] == sum(e["success"] for e in episodes) / 6
    assert saved["aggregated"]["success_rate"] >= 5 / 6  # the expert solves the held-out wordings too
    text = eval_summary_line(results, tmp_path)
    assert "  red_top_left: success rate" in text and "  green_bottom_right: success rate" in text
