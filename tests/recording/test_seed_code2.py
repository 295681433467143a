"""The tutorial's Code 2 ("Recording Expert Data") runs with only its imports changed, the SO-100
follower/leader swapped for the PushT simulator and its scripted expert, short episodes, and no
push_to_hub. The dataset it writes is then read back and checked against what the sim produced.
"""

import numpy as np
import pytest

pytest.importorskip("gym_pusht")


def test_seed_code2_records_a_readable_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTLEARN_HOME", str(tmp_path))  # where LeRobotDataset.create puts repo_id datasets

    # ---- Code 2, imports changed ------------------------------------------------------------
    from robotlearn.datasets import LeRobotDataset
    from robotlearn.recording import hw_to_dataset_features, init_keyboard_listener, init_rerun, log_say, record_loop
    from robotlearn.robots.sim_pusht import PushTRobot, PushTRobotConfig
    from robotlearn.teleoperators.scripted_pusht import ScriptedPushT, ScriptedPushTConfig

    NUM_EPISODES = 2
    FPS = 30
    EPISODE_TIME_SEC = 1
    RESET_TIME_SEC = 0.2
    TASK_DESCRIPTION = "push the T"
    HF_USER = "tester"

    # Create the robot and teleoperator configurations (the sim has its own top camera)
    robot_config = PushTRobotConfig(seed=0)
    teleop_config = ScriptedPushTConfig()

    # Initialize the robot and teleoperator
    robot = PushTRobot(robot_config)
    teleop = ScriptedPushT(teleop_config, robot=robot)

    # Configure the dataset features
    action_features = hw_to_dataset_features(robot.action_features, "action")
    obs_features = hw_to_dataset_features(robot.observation_features, "observation")
    dataset_features = {**action_features, **obs_features}

    # Create the dataset where to store the data
    dataset = LeRobotDataset.create(
        repo_id=f"{HF_USER}/robot-learning-tutorial-data",
        fps=FPS,
        features=dataset_features,
        robot_type=robot.name,
        use_videos=True,
        image_writer_threads=4,
    )

    # Initialize the keyboard listener and rerun visualization
    _, events = init_keyboard_listener()
    init_rerun(session_name="recording")

    # Connect the robot and teleoperator
    robot.connect()
    teleop.connect()

    episode_idx = 0
    while episode_idx < NUM_EPISODES and not events["stop_recording"]:
        log_say(f"Recording episode {episode_idx + 1} of {NUM_EPISODES}")

        record_loop(
            robot=robot,
            events=events,
            fps=FPS,
            teleop=teleop,
            dataset=dataset,
            control_time_s=EPISODE_TIME_SEC,
            single_task=TASK_DESCRIPTION,
            display_data=True,
        )

        # Reset the environment if not stopping or re-recording
        if not events["stop_recording"] and (episode_idx < NUM_EPISODES - 1 or events["rerecord_episode"]):
            log_say("Reset the environment")
            record_loop(
                robot=robot,
                events=events,
                fps=FPS,
                teleop=teleop,
                control_time_s=RESET_TIME_SEC,
                single_task=TASK_DESCRIPTION,
                display_data=True,
            )

        if events["rerecord_episode"]:
            log_say("Re-recording episode")
            events["rerecord_episode"] = False
            events["exit_early"] = False
            dataset.clear_episode_buffer()
            continue

        dataset.save_episode()
        episode_idx += 1

    # Clean up
    log_say("Stop recording")
    robot.disconnect()
    teleop.disconnect()
    # dataset.push_to_hub()  (no network in tests)
    # ---- end of Code 2 ----------------------------------------------------------------------

    ds = LeRobotDataset(f"{HF_USER}/robot-learning-tutorial-data")  # found under $ROBOTLEARN_HOME
    assert ds.meta.total_episodes == 2 and len(ds) == 2 * FPS * EPISODE_TIME_SEC
    assert ds.meta.fps == FPS and ds.meta.robot_type == "sim_pusht"
    assert ds.meta.features["observation.state"]["names"] == ["agent_x", "agent_y"]
    assert ds.meta.features["action"]["names"] == ["target_x", "target_y"]
    assert ds.meta.video_keys == ["observation.images.top"]
    assert ds.meta.tasks == ["push the T"]

    # Re-run the sim from the same seed with the recorded actions: states and images must match.
    from robotlearn.envs.pusht import PushTEnv

    env = PushTEnv(seed=0, max_steps=None)
    obs, _ = env.reset()
    for i in range(FPS * EPISODE_TIME_SEC):
        item = ds[i]
        assert item["episode_index"] == 0 and item["frame_index"] == i
        np.testing.assert_array_equal(item["observation.state"].numpy(), obs["observation.state"])
        image = item["observation.images.top"]
        assert image.shape == (3, 96, 96) and 0.0 <= image.min() and image.max() <= 1.0
        # lossy video: compare to the sim's frame on average
        stored = image.permute(1, 2, 0).numpy() * 255.0
        assert np.abs(stored - obs["observation.images.top"].astype(np.float32)).mean() < 8.0
        obs, *_ = env.step(item["action"].numpy())
    # The second episode starts from a new initial state.
    assert not np.array_equal(
        ds[FPS * EPISODE_TIME_SEC]["observation.state"].numpy(), ds[0]["observation.state"].numpy()
    )
