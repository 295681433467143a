"""`write_rrd`: a dataset as a rerun recording (extra "viz": pip install 'robotlearn[viz]'), viewed with `rerun FILE.rrd`.

Layout of the recording, one set of entities per episode (`episode_NNNNNN/...`), so several episodes
never overlap on the per-episode timelines:
- timelines `frame_index` (sequence, per episode), `timestamp` (duration, seconds since the episode
  start) and `index` (sequence, the dataset's global frame index);
- `<episode>/<feature>`: every numeric feature (state, action, ...) as Scalars, one series per dimension
  (named by the feature's `names`), one row per frame;
- `<episode>/<camera>`: a video camera as the dataset's own MP4 (an AssetVideo logged once per file, not
  re-encoded) plus one VideoFrameReference per frame into it; an image camera as EncodedImage (PNG) per frame;
- `<episode>/task`: the task text (TextDocument) at frame 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robotlearn.datasets.errors import DatasetError
from robotlearn.errors import MissingDependencyError
from robotlearn.viewer.episodes import open_metadata, plotted_features, read_episodes, select_episodes


@dataclass
class RrdSummary:
    """What write_rrd wrote."""

    path: Path
    episodes: int
    frames: int


def import_rerun():
    """The rerun module, or MissingDependencyError naming the extra to install."""
    try:
        import rerun as rr
    except ImportError:
        raise MissingDependencyError("rerun is not installed: pip install 'robotlearn[viz]' (rerun-sdk)") from None
    return rr


def episode_entity(index: int) -> str:
    return f"episode_{index:06d}"


def write_rrd(root: str | Path, path: str | Path, episodes: list[int] | None = None) -> RrdSummary:
    """Write the dataset at `root` (folder or remote root) as a rerun recording to `path` (.rrd).

    Raises MissingDependencyError without rerun-sdk, DatasetError for a missing/broken dataset or unknown episodes.
    """
    rr = import_rerun()
    meta = open_metadata(root)
    chosen = select_episodes(meta, episodes)
    read = read_episodes(meta, chosen)
    path = Path(path).expanduser()
    if path.is_dir():
        raise DatasetError(f"{path} is a folder; --rerun takes the .rrd file to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    features = plotted_features(meta)
    name = str(meta.root).rstrip("/").rsplit("/", 1)[-1]
    rec = rr.RecordingStream(application_id="robotlearn_dataset", recording_id=name)
    rec.save(path)
    fps = meta.fps
    assets: set[tuple[str, str]] = set()
    frames = 0
    for ep in read:
        base = episode_entity(ep.index)
        n = ep.length
        start = int(meta.episode_columns["dataset_from_index"][ep.index])
        indexes = [
            rr.TimeColumn("frame_index", sequence=np.arange(n)),
            rr.TimeColumn("timestamp", duration=np.arange(n) / fps),
            rr.TimeColumn("index", sequence=np.arange(start, start + n)),
        ]
        for key, names in features.items():
            values = ep.series[key]  # (n, dims)
            rec.log(f"{base}/{key}", rr.SeriesLines(names=names), static=True)
            rec.send_columns(
                f"{base}/{key}",
                indexes=indexes,
                columns=rr.Scalars.columns(scalars=values.reshape(-1)).partition([values.shape[1]] * n),
            )
        for key, span in ep.videos.items():
            asset = "files/" + span.path.removesuffix(".mp4")  # e.g. files/videos/<camera>/chunk-000/file-000
            if (key, span.path) not in assets:  # one asset per file: several episodes share it
                assets.add((key, span.path))
                rec.log(
                    asset, rr.AssetVideo(contents=_read_bytes(meta, span.path), media_type="video/mp4"), static=True
                )
            nanos = np.round((span.from_s + np.arange(n) / fps) * 1e9).astype(np.int64)
            rec.send_columns(f"{base}/{key}", indexes=indexes, columns=rr.VideoFrameReference.columns_nanos(nanos))
            rec.log(f"{base}/{key}", rr.VideoFrameReference.from_fields(video_reference=asset), static=True)
        for key, images in ep.images.items():
            for f, data in enumerate(images):
                rec.set_time("frame_index", sequence=f)
                rec.set_time("timestamp", duration=f / fps)
                rec.set_time("index", sequence=start + f)
                rec.log(f"{base}/{key}", rr.EncodedImage(contents=data, media_type="image/png"))
        rec.set_time("frame_index", sequence=0)
        rec.set_time("timestamp", duration=0.0)
        rec.set_time("index", sequence=start)
        rec.log(f"{base}/task", rr.TextDocument("\n".join(ep.tasks) or "(no task)"))
        frames += n
    rec.flush()
    rec.disconnect()
    return RrdSummary(path=path, episodes=len(read), frames=frames)


def _read_bytes(meta, relative: str) -> bytes:
    source = f"{str(meta.root).rstrip('/')}/{relative}"
    try:
        if meta.fs is not None:
            with meta.fs.open(source, "rb") as f:
                return f.read()
        return Path(source).read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{source}: video file not found (referenced by meta/episodes)") from None
