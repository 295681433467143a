"""Camera video I/O for LeRobotDataset v3.0 (FORMAT.md §4.3, §8.2, §9): one import point.

Writing (video_encode.py): `VideoEncoder` / `encode_video` make one episode's MP4 per camera while
recording; `append_video` / `new_video_file` place it into the camera's file and return its
from_timestamp; `video_duration` and `video_info` probe a file.
Reading (video_decode.py): `decode_frames(path, times)` returns the (T, H, W, 3) uint8 frames at file
times from_timestamp + t, through a per-process, fork-aware LRU of open files (`DecoderCache`).
"""

from robotlearn.datasets.video_decode import DecoderCache, decode_frames, default_decoder_cache
from robotlearn.datasets.video_encode import (
    VideoEncoder,
    VideoIncompatibleError,
    append_video,
    encode_video,
    new_video_file,
    resolve_encoder_options,
    video_duration,
    video_info,
)

__all__ = [
    "DecoderCache",
    "VideoEncoder",
    "VideoIncompatibleError",
    "append_video",
    "decode_frames",
    "default_decoder_cache",
    "encode_video",
    "new_video_file",
    "resolve_encoder_options",
    "video_duration",
    "video_info",
]
