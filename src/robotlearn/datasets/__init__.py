"""LeRobotDataset v3.0: read, write and stream robot-learning datasets.

from robotlearn.datasets import LeRobotDataset, LeRobotDatasetMetadata
"""

from robotlearn.datasets.errors import (
    DatasetError,
    DatasetFormatError,
    FeatureError,
    FrameTimestampError,
    VideoDecodeError,
)


def __getattr__(name):
    # Imported lazily: the readers pull in torch (seconds), which the dataset tools and the
    # `robotlearn dataset` commands do not need; streaming also pulls in fsspec machinery.
    if name == "LeRobotDataset":
        from robotlearn.datasets.lerobot_dataset import LeRobotDataset

        return LeRobotDataset
    if name == "LeRobotDatasetMetadata":
        from robotlearn.datasets.metadata import LeRobotDatasetMetadata

        return LeRobotDatasetMetadata
    if name == "collate_samples":
        from robotlearn.datasets.collate import collate_samples

        return collate_samples
    if name == "StreamingLeRobotDataset":
        from robotlearn.datasets.streaming import StreamingLeRobotDataset

        return StreamingLeRobotDataset
    raise AttributeError(name)


__all__ = [
    "DatasetError",
    "DatasetFormatError",
    "FeatureError",
    "FrameTimestampError",
    "LeRobotDataset",
    "LeRobotDatasetMetadata",
    "StreamingLeRobotDataset",
    "VideoDecodeError",
    "collate_samples",
]
