"""Recording: the control loop, dataset features from robot features, and operator feedback.

from robotlearn.recording import (hw_to_dataset_features, build_dataset_frame, record_loop,
                                  init_keyboard_listener, log_say, init_rerun)
"""

from robotlearn.recording.features import (
    CAPTURE_TIME_KEY,
    build_dataset_frame,
    capture_time_feature,
    hw_to_dataset_features,
)
from robotlearn.recording.feedback import init_rerun, log_rerun_data, log_say
from robotlearn.recording.keyboard import init_keyboard_listener
from robotlearn.recording.record_loop import LoopStats, precise_sleep_until, record_loop

__all__ = [
    "CAPTURE_TIME_KEY",
    "LoopStats",
    "build_dataset_frame",
    "capture_time_feature",
    "hw_to_dataset_features",
    "init_keyboard_listener",
    "init_rerun",
    "log_rerun_data",
    "log_say",
    "precise_sleep_until",
    "record_loop",
]
