"""LeRobotDataset v3.0: read, write and stream robot-learning datasets.

    from robotlearn.datasets import LeRobotDataset, LeRobotDatasetMetadata
"""

from robotlearn.datasets.errors import DatasetError, DatasetFormatError, FeatureError, FrameTimestampError, VideoDecodeError
from robotlearn.datasets.lerobot_dataset import LeRobotDataset
from robotlearn.datasets.metadata import LeRobotDatasetMetadata


def __getattr__(name):
    # Imported lazily: streaming pulls in fsspec machinery that map-style users don't need.
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
]
