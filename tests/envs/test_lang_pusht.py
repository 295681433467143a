"""Language PushT: tasks and instructions, the undrawn goal, the success criterion, the scripted expert."""

import numpy as np
import pytest

pytest.importorskip("pymunk")

from robotlearn.envs import LangPushTEnvConfig, make_env
from robotlearn.envs.lang_pusht import (
    OBS_IMAGE_KEY,
    OBS_STATE_KEY,
    TASKS,
    LangPushTEnv,
    instructions,
    task_parts,
)
from robotlearn.envs.lang_pusht_expert import LangPushTExpert


def run_expert(env: LangPushTEnv, seed: int) -> tuple[bool, dict]:
    expert = LangPushTExpert()
    _, info = env.reset(seed=seed)
    first_info = info
    while True:
        _, reward, terminated, truncated, info = env.step(expert.act(env))
        if terminated or truncated:
            return terminated and reward == 1.0 and info["is_success"], first_info


def test_twelve_tasks_from_three_blocks_and_four_corners():
    assert len(TASKS) == 12
    assert task_parts("green_bottom_right") == ("green", "bottom_right")
    with pytest.raises(ValueError, match="unknown lang_pusht task 'purple_top_left'"):
        task_parts("purple_top_left")


def test_heldout_paraphrases_are_disjoint_from_training_instructions_and_name_block_and_corner():
    for task in TASKS:
        train, heldout = instructions(task, "train"), instructions(task, "heldout")
        assert not set(train) & set(heldout)
        color, corner = task_parts(task)
        for text in train + heldout:
            assert color in text and corner.replace("_", " ") in text
    assert instructions("red_top_left")[0] == "push the red block to the top left corner"


def test_reset_gives_the_instruction_in_info_and_a_goal_free_image():
    env = make_env(LangPushTEnvConfig(task="red_top_left,blue_bottom_right", paraphrases="heldout"), max_steps=50)
    obs, info = env.reset(seed=3)
    assert obs[OBS_IMAGE_KEY].shape == (96, 96, 3) and obs[OBS_IMAGE_KEY].dtype == np.uint8
    assert obs[OBS_STATE_KEY].shape == (2,) and obs[OBS_STATE_KEY].dtype == np.float32
    assert info["task"] in instructions(info["task_name"], "heldout")
    assert not info["is_success"]
    # Two single-task envs with one seed lay the board out the same way: the images are identical,
    # only the instruction tells the tasks apart (the goal region is not drawn).
    a, info_a = LangPushTEnv(task="red_top_left").reset(seed=5)
    b, info_b = LangPushTEnv(task="blue_bottom_right").reset(seed=5)
    assert np.array_equal(a[OBS_IMAGE_KEY], b[OBS_IMAGE_KEY]) and info_a["task"] != info_b["task"]


def test_same_seed_same_episode_start():
    env = LangPushTEnv()
    first, info = env.reset(seed=11)
    again, info_again = env.reset(seed=11)
    assert info["task"] == info_again["task"]
    assert all(np.array_equal(first[k], again[k]) for k in first)


@pytest.mark.parametrize("task", ["red_top_left", "green_top_right", "blue_bottom_left", "red_bottom_right"])
def test_scripted_expert_solves_each_task(task):
    env = LangPushTEnv(task=task, max_steps=200)
    for seed in range(3):
        success, _ = run_expert(env, seed)
        assert success, f"expert failed {task} from seed {seed}"
        assert env.is_success() and env.steps < 200
