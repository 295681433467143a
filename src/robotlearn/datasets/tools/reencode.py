"""`reencode` and `images_to_video`: the only tools that encode video.

`reencode` decodes every episode of the chosen cameras and encodes it again (codec, crf, g, preset,
resolution), one MP4 per episode that is then appended packet for packet, so each episode starts on
a key frame as the format expects. `images_to_video` turns `image` features (PNG bytes in the data
files) into `video` features. Rows, other cameras and stats are copied (a resized camera keeps its
per-channel stats, which downsampling barely changes; run recompute-stats for exact ones).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from tqdm import tqdm

from robotlearn.datasets.errors import DatasetError
from robotlearn.datasets.metadata import DEFAULT_VIDEO_PATH
from robotlearn.datasets.tools.build import DatasetBuilder, SourceDataset, VideoSlice, default_features
from robotlearn.datasets.tools.common import ToolResult, resolve_output, write_atomically
from robotlearn.datasets.tools.frames import FrameReader, image_column_frames
from robotlearn.datasets.video_encode import encode_video, resolve_encoder_options, video_duration

SCRATCH = ".encode"


def _resize(frames: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    if size is None or frames.shape[1:3] == size:
        return frames
    from PIL import Image

    h, w = size
    return np.stack([np.asarray(Image.fromarray(f).resize((w, h), Image.BILINEAR)) for f in frames])


def _options(vcodec: str, crf: int | None, g: int | None, preset) -> dict:
    try:
        return resolve_encoder_options(vcodec, "yuv420p", g, crf, preset)
    except ValueError as e:
        raise DatasetError(str(e)) from None


def _encode_all(
    src: SourceDataset,
    target: Path,
    in_place: bool,
    features: dict,
    keys: list[str],
    options: dict,
    size,
    frames_of,
    progress: bool,
    desc: str,
) -> None:
    enc = {k: v for k, v in options.items() if k in ("vcodec", "pix_fmt", "g", "crf", "preset")}

    def build(out: Path) -> None:
        b = DatasetBuilder(out, src.meta.info, features)
        scratch = out / SCRATCH
        for e in tqdm(range(src.num_episodes), desc=desc, disable=not progress):
            ep = src.episode(e)
            override = {}
            for key in keys:
                path = scratch / key / f"episode-{e:06d}.mp4"
                encode_video(_resize(frames_of(ep, key), size), path, src.meta.fps, **enc)
                override[key] = VideoSlice(path, 0.0, video_duration(path))
            b.add(ep, video_override=override)
            shutil.rmtree(scratch, ignore_errors=True)
        b.finish(probe_video={k: options for k in keys})

    write_atomically(target, in_place, build)


def reencode(
    root: str | Path,
    output: str | Path | None = None,
    in_place: bool = False,
    cameras=None,
    vcodec: str = "libsvtav1",
    crf: int | None = None,
    g: int | None = 2,
    preset=None,
    width: int | None = None,
    height: int | None = None,
    dry_run: bool = False,
    progress: bool = False,
) -> ToolResult:
    """Re-encode the video cameras `cameras` (default all) with the given settings; width/height resize
    (both, even). Raises DatasetError for an unknown camera, codec or odd size."""
    src = SourceDataset(root)
    keys = (
        list(src.meta.video_keys)
        if not cameras
        else [c.strip() for c in (cameras.split(",") if isinstance(cameras, str) else cameras)]
    )
    unknown = [k for k in keys if k not in src.meta.video_keys]
    if unknown or not keys:
        raise DatasetError(f"reencode: {unknown or 'no'} video camera(s); the dataset's are {src.meta.video_keys}")
    if (width is None) != (height is None) or (
        width is not None and (width <= 0 or height <= 0 or width % 2 or height % 2)
    ):
        raise DatasetError(f"reencode: give both --width and --height, positive and even (got {width}x{height})")
    options = _options(vcodec, crf, g, preset)
    target = resolve_output(src.root, output, in_place, "reencode")
    size = (height, width) if width is not None else None
    result = ToolResult("reencode", str(target), dry_run, details={"cameras": keys, "options": options})
    result.lines.append(
        f"re-encode {keys} of {src.num_episodes} episodes with {options['vcodec']} crf={options['crf']} "
        f"g={options['g']}" + (f" at {width}x{height}" if size else "")
    )
    if dry_run:
        return result
    features = default_features(src.meta)
    for k in keys:
        if size:
            features[k]["shape"] = [height, width, features[k]["shape"][2]]
    reader = FrameReader()
    _encode_all(
        src,
        target,
        in_place,
        features,
        keys,
        options,
        size,
        lambda ep, key: reader.video(ep.videos[key], ep.length, ep.label),
        progress,
        "reencode",
    )
    return result


def images_to_video(
    root: str | Path,
    output: str | Path | None = None,
    in_place: bool = False,
    cameras=None,
    vcodec: str = "libsvtav1",
    crf: int | None = None,
    g: int | None = 2,
    preset=None,
    dry_run: bool = False,
    progress: bool = False,
) -> ToolResult:
    """Turn the `image` features `cameras` (default all) into MP4 video features."""
    src = SourceDataset(root)
    keys = (
        list(src.meta.image_keys)
        if not cameras
        else [c.strip() for c in (cameras.split(",") if isinstance(cameras, str) else cameras)]
    )
    unknown = [k for k in keys if k not in src.meta.image_keys]
    if unknown or not keys:
        raise DatasetError(
            f"images-to-video: {unknown or 'no'} image feature(s); the dataset's are {src.meta.image_keys}"
        )
    for k in keys:
        h, w = src.meta.features[k]["shape"][:2]
        if h % 2 or w % 2:
            raise DatasetError(
                f"images-to-video: {k!r} is {w}x{h}; yuv420p video needs even sizes (reencode cannot fix images)"
            )
    options = _options(vcodec, crf, g, preset)
    target = resolve_output(src.root, output, in_place, "images-to-video")
    result = ToolResult("images-to-video", str(target), dry_run, details={"cameras": keys})
    result.lines.append(f"encode {keys} of {src.num_episodes} episodes as {options['vcodec']} video")
    if dry_run:
        return result
    features = default_features(src.meta)
    for k in keys:
        features[k]["dtype"] = "video"
    info = dict(src.meta.info)
    info["video_path"] = DEFAULT_VIDEO_PATH
    src.meta.info = info
    _encode_all(
        src,
        target,
        in_place,
        features,
        keys,
        options,
        None,
        lambda ep, key: image_column_frames(ep.rows(), key),
        progress,
        "images-to-video",
    )
    return result
