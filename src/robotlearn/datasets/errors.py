"""Typed dataset errors. Messages name the file, the field and the fix."""

from robotlearn.errors import RobotlearnError


class DatasetError(RobotlearnError):
    """Base class for dataset errors."""


class DatasetFormatError(DatasetError):
    """A dataset file is missing, truncated or malformed; the message names the file and field."""


class FrameTimestampError(DatasetError, ValueError):
    """A decoded video frame is further than tolerance_s from the requested time."""


class VideoDecodeError(DatasetFormatError):
    """A video file is missing, truncated or cannot be decoded."""


class FeatureError(DatasetError, ValueError):
    """A frame or feature definition does not match the dataset's schema."""
