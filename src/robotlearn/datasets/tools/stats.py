"""`recompute_stats`: per-episode and global statistics computed afresh from the data and the frames.

Numeric features use every frame; cameras the sampled, downsampled frames of `datasets.stats` (the
reference's rule, FORMAT.md §12.2), decoded from the MP4s or the PNG bytes. Useful after an edit
outside robotlearn, for a dataset whose stats lack quantiles (huggingface/lerobot#2189) or whose
stats.json was lost. Rows and video packets are copied unchanged.
"""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from robotlearn.datasets import stats as stats_lib
from robotlearn.datasets.table import column_to_numpy
from robotlearn.datasets.tools.build import DatasetBuilder, SourceDataset, SourceEpisode, default_features
from robotlearn.datasets.tools.common import ToolResult, resolve_output, write_atomically
from robotlearn.datasets.tools.frames import FrameReader, image_column_frames


def episode_stats(ep: SourceEpisode, features: dict, frames: FrameReader, cameras: bool = True) -> dict:
    """Stats of one episode computed from its rows (and, with `cameras`, its decoded frames)."""
    table = ep.rows()
    idx = stats_lib.sample_indices(table.num_rows)
    data = {}
    for key, ft in features.items():
        if ft["dtype"] in ("string", "language"):
            continue
        if ft["dtype"] == "video":
            if cameras:
                data[key] = stats_lib.downsample_for_stats(frames.video(ep.videos[key], ep.length, ep.label)[idx])
        elif ft["dtype"] == "image":
            if cameras:
                data[key] = stats_lib.downsample_for_stats(image_column_frames(table.take(idx), key))
        else:
            data[key] = column_to_numpy(table.column(key), ft, Path(ep.label), key)
    out = stats_lib.compute_episode_stats(data, features)
    if not cameras:  # keep the cameras' existing stats
        out.update({k: v for k, v in ep.stats.items() if features.get(k, {}).get("dtype") in ("image", "video")})
    return out


def recompute_stats(
    root: str | Path,
    output: str | Path | None = None,
    in_place: bool = False,
    cameras: bool = True,
    dry_run: bool = False,
    progress: bool = False,
) -> ToolResult:
    """Write the dataset with statistics recomputed (cameras too unless cameras=False)."""
    src = SourceDataset(root)
    target = resolve_output(src.root, output, in_place, "recompute-stats")
    result = ToolResult("recompute-stats", str(target), dry_run)
    result.lines.append(f"recompute the stats of {src.num_episodes} episodes" + ("" if cameras else " (cameras kept)"))
    if dry_run:
        return result
    features = default_features(src.meta)

    def build(out: Path) -> None:
        b = DatasetBuilder(out, src.meta.info, features)
        frames = FrameReader()
        for e in tqdm(range(src.num_episodes), desc="recompute-stats", disable=not progress):
            ep = src.episode(e)
            ep.stats = episode_stats(ep, features, frames, cameras)
            b.add(ep)
        b.finish()

    write_atomically(target, in_place, build)
    return result
