"""hw_to_dataset_features and build_dataset_frame: robot features <-> dataset features and frames."""

import numpy as np
import pytest

from robotlearn.recording import CAPTURE_TIME_KEY, build_dataset_frame, capture_time_feature, hw_to_dataset_features

ARM = {"shoulder.pos": float, "elbow.pos": float, "front": (48, 64, 3), "wrist": (32, 32, 3)}


def test_scalars_become_one_named_vector_and_images_become_video_features():
    obs = hw_to_dataset_features(ARM, "observation")
    assert obs == {
        "observation.state": {"dtype": "float32", "shape": (2,), "names": ["shoulder.pos", "elbow.pos"]},
        "observation.images.front": {"dtype": "video", "shape": (48, 64, 3), "names": ["height", "width", "channels"]},
        "observation.images.wrist": {"dtype": "video", "shape": (32, 32, 3), "names": ["height", "width", "channels"]},
    }
    assert CAPTURE_TIME_KEY not in obs  # optional: added by the caller (see capture_time_feature)
    act = hw_to_dataset_features({"shoulder.pos": float, "elbow.pos": float}, "action")
    assert act == {"action": {"dtype": "float32", "shape": (2,), "names": ["shoulder.pos", "elbow.pos"]}}
    assert hw_to_dataset_features(ARM, "observation", use_video=False)["observation.images.front"]["dtype"] == "image"


def test_sim_pusht_features_equal_the_envs_dataset_features():
    pytest.importorskip("gym_pusht")
    from robotlearn.envs.pusht import pusht_dataset_features
    from robotlearn.robots.sim_pusht import PushTRobot

    robot = PushTRobot()
    feats = {
        **hw_to_dataset_features(robot.observation_features, "observation"),
        **hw_to_dataset_features(robot.action_features, "action"),
    }
    assert feats == pusht_dataset_features()


def test_unknown_feature_kinds_and_prefixes_are_refused():
    with pytest.raises(ValueError, match="'grip'"):
        hw_to_dataset_features({"grip": str}, "observation")
    with pytest.raises(ValueError, match="prefix"):
        hw_to_dataset_features(ARM, "obs")


def test_build_dataset_frame_orders_values_by_names_and_passes_images():
    feats = {
        **hw_to_dataset_features(ARM, "observation"),
        **hw_to_dataset_features({"elbow.pos": float}, "action"),
        **capture_time_feature(),
    }
    image = np.full((48, 64, 3), 7, np.uint8)
    values = {"elbow.pos": 2.5, "shoulder.pos": -1.0, "front": image, "wrist": np.zeros((32, 32, 3), np.uint8)}
    frame = build_dataset_frame(feats, values, "observation")
    assert set(frame) == {"observation.state", "observation.images.front", "observation.images.wrist"}
    np.testing.assert_array_equal(frame["observation.state"], np.array([-1.0, 2.5], np.float32))
    assert frame["observation.state"].dtype == np.float32 and frame["observation.images.front"] is image
    assert build_dataset_frame(feats, {"elbow.pos": 3.0}, "action")["action"].tolist() == [3.0]
    with pytest.raises(KeyError, match="shoulder.pos"):
        build_dataset_frame(feats, {"elbow.pos": 1.0, "front": image, "wrist": image}, "observation")
