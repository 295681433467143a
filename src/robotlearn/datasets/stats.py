"""Feature statistics: per-episode computation, aggregation, and their on-disk forms.

Format: FORMAT.md section 12. For every non-string feature we store `min`, `max`, `mean`, `std`,
`count` and the quantiles `q01`, `q10`, `q50`, `q90`, `q99`:

* vectors `(D,)`, scalars `(1,)`, images/videos `(C, 1, 1)` per channel in [0, 1];
* every stat is float64 except `count`, which is int64 `(1,)` (the reference stores it as an int in
  `stats.json` and as `list<int64>` in the episodes table);
* images: stats over all pixels of a *sample* of the episode's frames (`sample_indices`), each
  downsampled (`downsample_for_stats`); `count` is the number of sampled frames.

Where we differ from the reference, on purpose:

* Per-episode quantiles are exact (`np.quantile`, linear interpolation), not read off a histogram.
* `aggregate_stats` estimates global quantiles from the count-weighted mixture of the per-episode
  distributions instead of the min/max envelope, which drifts to the global min/max as episodes
  accumulate (USER_PAIN 48). Each input's (min, q01, q10, q50, q90, q99, max) are the knots of a
  piecewise-linear CDF (tails ending short of an outlying min/max, see `_tail_ends`); the
  mixture CDF is evaluated exactly on a fine grid and inverted.
  Aggregate all episodes' stats in one call: folding episodes in one at a time compresses the
  mixture back to 7 knots at every step and loses accuracy (see benchmarks/bench_stats.py).
* `ImageStatsAccumulator` (used while recording, when the episode length is not yet known) counts
  per-channel 256-bin histograms of *every* downsampled frame, so its quantiles are exact over all
  frames; `count` still follows the sampled-frame convention.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from robotlearn.datasets.errors import DatasetFormatError

QUANTILES = {"q01": 0.01, "q10": 0.10, "q50": 0.50, "q90": 0.90, "q99": 0.99}
STAT_KEYS = ("min", "max", "mean", "std", "count", *QUANTILES)
IMAGE_DTYPES = ("image", "video")
SKIPPED_DTYPES = ("string", "language")

# Image sampling rule (same numbers as the reference, FORMAT.md 12.2).
MIN_SAMPLED_FRAMES = 100
MAX_SAMPLED_FRAMES = 10_000
DOWNSAMPLE_ABOVE_PX = 300  # frames whose long side exceeds this are downsampled...
DOWNSAMPLE_TARGET_PX = 150  # ...so that the long side becomes about this

# Grid cells per dimension on which `aggregate_stats` evaluates the mixture CDF. The estimate is
# exact at grid points and linearly interpolated between them, so the added error is at most
# (envelope q99 - envelope q01) / AGGREGATE_GRID, far below the error of the 7-knot CDF model.
AGGREGATE_GRID = 2048


class StatsError(DatasetFormatError, ValueError):
    """Statistics are malformed (wrong keys, shapes or values) or cannot be computed."""


# ---------------------------------------------------------------------------------------------
# Image sampling


def sample_indices(n: int) -> np.ndarray:
    """Evenly spaced frame indices whose images enter an episode's image stats.

    All `n` frames when `n < 100`, else `clamp(int(n ** 0.75), 100, 10000)` indices spread from
    the first to the last frame. Returns int64 `(k,)`.
    """
    if n < 0:
        raise StatsError(f"sample_indices: episode length must be >= 0, got {n}")
    if n < MIN_SAMPLED_FRAMES:
        k = n
    else:
        k = min(max(int(n**0.75), MIN_SAMPLED_FRAMES), MAX_SAMPLED_FRAMES)
    return np.round(np.linspace(0, n - 1, k)).astype(np.int64)


def downsample_for_stats(frame: np.ndarray) -> np.ndarray:
    """Shrink an `(H, W, C)` (or `(N, H, W, C)`) frame for statistics, by strided slicing.

    When the long side exceeds 300 px, keeps every `f`-th row and column with
    `f = long_side // 150`, so 480x640 becomes 120x160. Returns a view (no copy, microseconds);
    smaller frames are returned unchanged.
    """
    if frame.ndim not in (3, 4):
        raise StatsError(f"downsample_for_stats expects (H, W, C) or (N, H, W, C), got shape {frame.shape}")
    h, w = frame.shape[-3], frame.shape[-2]
    long_side = max(h, w)
    if long_side <= DOWNSAMPLE_ABOVE_PX:
        return frame
    f = long_side // DOWNSAMPLE_TARGET_PX
    return frame[..., ::f, ::f, :]


# ---------------------------------------------------------------------------------------------
# Per-episode statistics


def _numeric_stats(x: np.ndarray) -> dict[str, np.ndarray]:
    """Stats over axis 0 of `(N, ...)` data; outputs have shape `x.shape[1:]`."""
    x = x.astype(np.float64, copy=False)
    mean = x.mean(axis=0)
    stats = {
        "min": x.min(axis=0),
        "max": x.max(axis=0),
        "mean": mean,
        "std": x.std(axis=0),
        "count": np.array([len(x)], dtype=np.int64),
    }
    if len(x) < 2:  # convention of the reference: quantiles of a single sample are the mean
        qs = np.broadcast_to(mean, (len(QUANTILES), *mean.shape))
    else:
        qs = np.quantile(x, list(QUANTILES.values()), axis=0)
    for i, name in enumerate(QUANTILES):
        stats[name] = np.array(qs[i], dtype=np.float64)
    return stats


def _histogram_stats(hist: np.ndarray, scale: float) -> dict[str, np.ndarray]:
    """Exact min/max/mean/std/quantiles from per-channel value histograms `(C, B)`.

    Bin `v` counts pixels of value `v`. Quantiles reproduce `np.quantile` (linear interpolation)
    on the sorted pixel values; every output is divided by `scale` and shaped `(C, 1, 1)`.
    """
    hist = hist.astype(np.int64, copy=False)
    n = int(hist[0].sum())
    values = np.arange(hist.shape[1], dtype=np.float64)
    nonzero = hist > 0
    first = nonzero.argmax(axis=1)
    last = hist.shape[1] - 1 - nonzero[:, ::-1].argmax(axis=1)
    mean = (hist * values).sum(axis=1) / n
    var = np.maximum((hist * values**2).sum(axis=1) / n - mean**2, 0.0)
    cum = np.cumsum(hist, axis=1)

    def sorted_value(rank: np.ndarray) -> np.ndarray:  # value at sorted position `rank`, per channel
        return np.array([np.searchsorted(cum[c], rank[c], side="right") for c in range(len(hist))], dtype=np.float64)

    probs = np.array(list(QUANTILES.values()))
    pos = probs * (n - 1)
    below = np.floor(pos).astype(np.int64)
    above = np.minimum(below + 1, n - 1)
    lo = sorted_value(np.broadcast_to(below, (len(hist), len(probs))))
    hi = sorted_value(np.broadcast_to(above, (len(hist), len(probs))))
    qs = lo + (pos - below) * (hi - lo)  # (C, 5)

    def shaped(a: np.ndarray) -> np.ndarray:
        return (np.asarray(a, dtype=np.float64) / scale).reshape(-1, 1, 1)

    stats = {
        "min": shaped(first),
        "max": shaped(last),
        "mean": shaped(mean),
        "std": shaped(np.sqrt(var)),
        "count": np.array([0], dtype=np.int64),  # set by the caller
    }
    for i, name in enumerate(QUANTILES):
        stats[name] = shaped(qs[:, i])
    return stats


def _channel_histograms(frames: np.ndarray) -> np.ndarray:
    """Per-channel 256-bin histograms `(C, 256)` of uint8 pixels `(..., C)`."""
    channels = frames.shape[-1]
    # One bincount over (pixel + 256 * channel) instead of one strided copy per channel: ~5x
    # faster on a downsampled 480x640 frame, which keeps add_frame cheap while recording.
    codes = frames.reshape(-1, channels).astype(np.uint16)
    codes += (np.arange(channels, dtype=np.uint16) * 256)[None, :]
    return np.bincount(codes.ravel(), minlength=256 * channels).reshape(channels, 256)


def _image_stats(frames: np.ndarray, key: str) -> dict[str, np.ndarray]:
    if frames.ndim == 3:  # (M, H, W) grayscale
        frames = frames[..., None]
    if frames.ndim != 4 or len(frames) == 0:
        raise StatsError(
            f"feature '{key}': image stats need sampled frames shaped (M, H, W, C) with M >= 1, "
            f"got shape {frames.shape}"
        )
    if frames.dtype == np.uint8:  # exact and fast through 256-bin histograms; RGB scaled to [0, 1]
        stats = _histogram_stats(_channel_histograms(frames), scale=255.0)
    else:  # e.g. depth in its stored unit: left unscaled
        per_channel = _numeric_stats(frames.reshape(-1, frames.shape[-1]))
        stats = {k: (v if k == "count" else v.reshape(-1, 1, 1)) for k, v in per_channel.items()}
    stats["count"] = np.array([len(frames)], dtype=np.int64)
    return stats


def compute_episode_stats(episode: dict[str, np.ndarray], features: dict) -> dict[str, dict[str, np.ndarray]]:
    """Statistics of one episode, per feature.

    Args:
        episode: feature name -> stacked data of the episode. Numeric features `(N,)` or
            `(N, D)` (any numeric dtype, bool included). Image/video features: the sampled and
            downsampled frames `(M, H, W, C)` (see `sample_indices`, `downsample_for_stats`);
            uint8 is scaled to [0, 1], other dtypes (depth) are kept in their unit.
        features: feature name -> `{"dtype": ..., "shape": ...}` as in info.json. Keys missing
            from `features`, and "string"/"language" features, are skipped.

    Returns:
        feature -> {"min", "max", "mean", "std", "q01", "q10", "q50", "q90", "q99"}: float64,
        shaped `(D,)` for vectors, `(1,)` for scalars, `(C, 1, 1)` for images; "count": int64
        `(1,)` = number of frames (sampled frames for images).

    Raises:
        StatsError: a feature has no frames or images are not `(M, H, W, C)`.
    """
    out: dict[str, dict[str, np.ndarray]] = {}
    for key, data in episode.items():
        feature = features.get(key)
        if feature is None or feature.get("dtype") in SKIPPED_DTYPES:
            continue
        data = np.asarray(data)
        if feature["dtype"] in IMAGE_DTYPES:
            out[key] = _image_stats(data, key)
            continue
        if data.ndim == 0 or len(data) == 0:
            raise StatsError(f"feature '{key}': cannot compute stats of an empty episode (shape {data.shape})")
        if data.ndim == 1:  # scalar feature stored as (N,)
            data = data[:, None]
        out[key] = _numeric_stats(data)
    return out


class ImageStatsAccumulator:
    """Image statistics of one camera built frame by frame while an episode is recorded.

    `add` downsamples each frame (`downsample_for_stats`) and adds it to per-channel 256-bin
    histograms: about 0.1-0.3 ms per 480x640 frame and 6 KiB of memory whatever the episode
    length. Because the histograms hold every frame (not only the sampled ones), min/max/mean/std
    and quantiles are exact over all frames of the episode -- a superset of the reference's sample;
    when the episode has fewer than 100 frames (all sampled) the result equals
    `compute_episode_stats` on those frames exactly. `count` follows the reference's convention:
    `len(sample_indices(n_frames))`.
    """

    def __init__(self) -> None:
        self.hist: np.ndarray | None = None  # (C, 256) int64
        self.n_frames = 0

    def add(self, frame: np.ndarray) -> None:
        """Account for one `(H, W, C)` uint8 frame."""
        if frame.dtype != np.uint8 or frame.ndim != 3:
            raise StatsError(
                f"ImageStatsAccumulator.add expects an (H, W, C) uint8 frame, got {frame.dtype} {frame.shape}"
            )
        hist = _channel_histograms(downsample_for_stats(frame))
        if self.hist is None:
            self.hist = hist.astype(np.int64)
        elif hist.shape != self.hist.shape:
            raise StatsError(
                f"ImageStatsAccumulator: frame has {frame.shape[-1]} channels, earlier frames had {len(self.hist)}"
            )
        else:
            self.hist += hist
        self.n_frames += 1

    def result(self, n_frames: int | None = None) -> dict[str, np.ndarray]:
        """Stats as `compute_episode_stats` returns them for one image feature.

        Args:
            n_frames: episode length used for `count` (default: the number of frames added).
        """
        if self.hist is None:
            raise StatsError("ImageStatsAccumulator.result: no frame was added")
        stats = _histogram_stats(self.hist, scale=255.0)
        n = self.n_frames if n_frames is None else n_frames
        stats["count"] = np.array([len(sample_indices(n))], dtype=np.int64)
        return stats

    def reset(self) -> None:
        """Forget all frames (start of a new episode)."""
        self.hist = None
        self.n_frames = 0


# ---------------------------------------------------------------------------------------------
# Aggregation


def _is_quantile(name: str) -> bool:  # "q01", "q99", also other "qNN" levels
    return len(name) > 1 and name[0] == "q" and name[1:].isdigit()


def _quantile_level(name: str) -> float:
    return float(name[1:]) / 10 ** len(name[1:])


def _mixture_quantiles(
    knots: np.ndarray, levels: np.ndarray, weights: np.ndarray, targets: np.ndarray, grid: int = AGGREGATE_GRID
) -> np.ndarray:
    """Quantiles of a weighted mixture of piecewise-linear CDFs, per dimension.

    Input `e`, dimension `d` has the CDF through the points `(knots[k, e, d], levels[k])`
    (levels rising from 0 to 1). The mixture CDF `F = sum_e weights[e] F_e` is evaluated exactly
    at `grid + 1` evenly spaced points spanning [min_e Q_e(t_min), max_e Q_e(t_max)], which
    contains every answer, then inverted by linear interpolation between neighbouring points.
    Cost: a few dozen vectorized passes over the E*K*D knots, no sort.

    Args:
        knots: `(K, E, D)` float64, modified in place (sorted along K); levels: `(K,)`;
            weights: `(E,)` summing to 1; targets: `(T,)`, each one of `levels` other than 0, 1.
    Returns:
        `(T, D)` float64.
    """
    K, E, D = knots.shape
    # Knots out of order (the reference's histogram quantiles can fall 1e-10 outside [min, max])
    # would give negative mass; a running max makes each CDF monotone.
    for k in range(1, K):
        np.maximum(knots[k], knots[k - 1], out=knots[k])
    t_lo, t_hi = int(np.searchsorted(levels, targets.min())), int(np.searchsorted(levels, targets.max()))
    seg_mass = np.diff(levels)[:, None, None] * weights[None, :, None]  # (K-1, E, 1)
    stride = grid + 3  # grid points 0..grid, then two overflow bins (idx <= grid + 1, plus 1)
    out = np.empty((len(targets), D))
    # Chunks of dimensions keep the temporaries (K, E, chunk) small and cache-friendly.
    chunk = max(1, 100_000 // (E * (K - 1)))
    for d0 in range(0, D, chunk):
        x = knots[:, :, d0 : d0 + chunk]
        dc = x.shape[2]
        lo = x[t_lo].min(axis=0)[None, None, :]  # F(lo) <= every target, (1, 1, dc)
        hi = x[t_hi].max(axis=0)[None, None, :]  # F(hi) >= every target
        step = (hi - lo) / grid
        step[step <= 0] = 1.0  # all answers equal lo: any grid works
        # Grid point i sits at lo + i * step. Segment k runs from knot k to knot k + 1 and holds
        # mass m; at the grid points g in [a, b) it adds m * (g - a) / (b - a) to F, and m at
        # every grid point >= b. As second differences of F on the grid: the first value f, a
        # constant rise c per cell, then the remainder l. Segment k ends at the grid index where
        # segment k + 1 starts, so the entries are summed per knot: two per knot, no sort.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            u = np.subtract(x, lo)
            u *= 1.0 / step  # knots in grid units, (K, E, dc)
            idx = np.ceil(np.clip(u, 0.0, grid + 1.0)).astype(np.int64)  # first grid point >= knot
            inside = idx[1:] - idx[:-1]  # grid points in [a, b), (K-1, E, dc)
            c = np.subtract(u[1:], u[:-1])
            empty = inside == 0
            np.copyto(c, 1.0, where=empty)  # zero widths: avoid inf * 0
            np.divide(seg_mass, c, out=c)  # m * step / (b - a)
            np.copyto(c, 0.0, where=empty)
            f = np.subtract(idx[:-1], u[:-1])
            f *= c  # F at the first grid point in [a, b) (bounded by m)
            l = np.subtract(idx[1:] - 1, u[:-1])
            l *= c
            np.subtract(seg_mass, l, out=l)  # m minus F at the last grid point in [a, b)
            c *= inside > 1  # a run of equal rises needs two points; else c could be huge
        at = np.zeros(x.shape)  # added at idx
        after = np.zeros(x.shape)  # added at idx + 1
        at[:-1] += f
        after[:-1] += c
        after[:-1] -= f
        at[1:] += l
        at[1:] -= c
        after[1:] -= l
        idx += (np.arange(dc) * stride)[None, None, :]
        n_bins = dc * stride
        dd = np.bincount(idx.ravel(), at.ravel(), n_bins)
        idx += 1
        dd += np.bincount(idx.ravel(), after.ravel(), n_bins)
        cdf = np.cumsum(np.cumsum(dd.reshape(dc, stride), axis=1), axis=1)[:, : grid + 1]  # F(lo + i*step)
        lo, step = lo.reshape(dc), step.reshape(dc)
        rows = np.arange(dc)
        for t, p in enumerate(targets):
            below = (cdf < p - 1e-12).sum(axis=1)  # grid points with F < p (F is non-decreasing)
            i = np.clip(below, 1, grid)
            f0, f1 = cdf[rows, i - 1], cdf[rows, i]
            rise = np.where(f1 > f0, f1 - f0, 1.0)
            frac = np.clip(np.where(f1 > f0, (p - f0) / rise, 1.0), 0.0, 1.0)
            x_t = lo + (i - 1 + frac) * step
            out[t, d0 : d0 + dc] = np.where(below == 0, lo, np.where(below > grid, lo + grid * step, x_t))
    return out


def _tail_ends(inner: list[np.ndarray], levels: np.ndarray, mins: np.ndarray, maxs: np.ndarray):
    """Where each input's piecewise-linear CDF reaches 0 and 1, per dimension.

    The mass below q01 is spread linearly down to `q01 - 2 (q10 - q01) / 9`, not to the min: that
    span has the mean of a tail that continues the density of [q01, q10] and decays exponentially
    (rate = density / 0.01), and a single outlier frame (a sensor glitch) no longer smears 1% of
    the episode's mass over its whole range. Never beyond the min; symmetric above q99.
    Measured (bench_stats.py, error / pooled q90-q10 spread): Student-t tails 0.39 -> 0.24, one
    glitch frame per episode 0.14 -> 0.03; light-tailed data unchanged.
    """
    p_a, p_b = levels[1], levels[2]
    low = np.maximum(mins, inner[0] - 2 * p_a * (inner[1] - inner[0]) / (p_b - p_a))
    p_a, p_b = 1 - levels[-2], 1 - levels[-3]
    high = np.minimum(maxs, inner[-1] + 2 * p_a * (inner[-1] - inner[-2]) / (p_b - p_a))
    return low, high


def _aggregate_feature(key: str, stats_list: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    for name in ("min", "max", "mean", "std", "count"):
        for s in stats_list:
            if name not in s:
                raise StatsError(f"feature '{key}': stats lack '{name}' (have {sorted(s)})")
    shape = np.shape(stats_list[0]["mean"])
    for s in stats_list:
        for name, value in s.items():
            if name != "count" and np.shape(value) != shape:
                raise StatsError(f"feature '{key}': stat '{name}' has shape {np.shape(value)}, expected {shape}")

    counts = np.array([float(np.asarray(s["count"]).reshape(-1)[0]) for s in stats_list])
    total = counts.sum()
    if total <= 0:
        raise StatsError(f"feature '{key}': total count is {total}; cannot aggregate")
    weights = counts / total

    def stacked(name: str) -> np.ndarray:  # (E, D)
        return np.stack([np.asarray(s[name], dtype=np.float64).reshape(-1) for s in stats_list])

    means, stds = stacked("mean"), stacked("std")
    mean = weights @ means
    # Pooled variance: within-episode variance plus spread of the episode means.
    var = weights @ (stds**2 + (means - mean) ** 2)
    mins, maxs = stacked("min"), stacked("max")
    out = {
        "min": mins.min(axis=0),
        "max": maxs.max(axis=0),
        "mean": mean,
        "std": np.sqrt(np.maximum(var, 0.0)),
        "count": np.array([int(round(total))], dtype=np.int64),
    }

    present = sorted({k for s in stats_list for k in s if _is_quantile(k)}, key=_quantile_level)
    mixable = [q for q in present if all(q in s for s in stats_list)]
    if mixable:
        if len(stats_list) == 1:
            for q in mixable:
                out[q] = stacked(q)[0]
        else:
            levels = np.array([0.0, *(_quantile_level(q) for q in mixable), 1.0])
            inner = [stacked(q) for q in mixable]
            low_end, high_end = mins, maxs
            if len(inner) >= 2:
                low_end, high_end = _tail_ends(inner, levels, mins, maxs)
            knots = np.stack([low_end, *inner, high_end])  # (K, E, D)
            mixed = _mixture_quantiles(knots, levels, weights, levels[1:-1])
            for i, q in enumerate(mixable):
                out[q] = np.clip(mixed[i], out["min"], out["max"])
    # Quantiles that some inputs lack (datasets written before quantiles existed): no
    # distribution to mix, so keep the reference's conservative envelope over the inputs that
    # have them -- the lowest value for q <= 0.5, the highest above.
    for q in present:
        if q in mixable:
            continue
        have = np.stack([np.asarray(s[q], dtype=np.float64).reshape(-1) for s in stats_list if q in s])
        out[q] = have.min(axis=0) if _quantile_level(q) <= 0.5 else have.max(axis=0)

    return {name: (v if name == "count" else v.reshape(shape)) for name, v in out.items()}


def aggregate_stats(stats_list: list[dict[str, dict[str, np.ndarray]]]) -> dict[str, dict[str, np.ndarray]]:
    """Global statistics from per-episode (or per-dataset) statistics.

    min/max element-wise; mean count-weighted; std pooled (within plus between-episode
    variance); count summed. Quantiles: the count-weighted mixture of each input's
    piecewise-linear CDF through (min, q01, ..., q99, max), inverted (see `_mixture_quantiles`).
    Measured against the exact quantiles of the pooled data (benchmarks/bench_stats.py, errors in
    units of the pooled q90 - q10 spread): about 0.01 for normal or uniform episodes, 0.25 at
    q01/q99 for heavy tails (Student t, df 2), where the reference's envelope is off by 0.3-1 and
    2.5-5. A quantile missing from some input falls back to the envelope (min over inputs for
    q <= 0.5, max above).

    A feature present in only some inputs is aggregated over those. Pass all episodes at once:
    re-aggregating an aggregate with one more episode at a time is less accurate.

    Raises:
        StatsError: an input lacks min/max/mean/std/count, shapes disagree, or counts sum to 0.
    """
    if not stats_list:
        raise StatsError("aggregate_stats: got an empty list of stats")
    keys = list(dict.fromkeys(k for s in stats_list for k in s))
    return {key: _aggregate_feature(key, [s[key] for s in stats_list if key in s]) for key in keys}


# ---------------------------------------------------------------------------------------------
# On-disk forms: meta/stats.json and the `stats/<feature>/<stat>` episode-table columns

STATS_COLUMN_PREFIX = "stats/"


def _to_array(value, name: str) -> np.ndarray:
    if isinstance(value, np.ndarray) and value.dtype == object:  # e.g. nested lists read via pandas
        value = [_to_array(v, name) for v in value]
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise StatsError(f"stat '{name}': expected a (nested) list of numbers, got {type(value).__name__}: {e}") from e
    return arr


def cast_stats_to_numpy(stats: dict) -> dict[str, dict[str, np.ndarray]]:
    """Nested `{feature: {stat: list}}` -> numpy: float64 arrays, `count` int64 `(1,)`."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for key, feature_stats in stats.items():
        if not isinstance(feature_stats, dict):
            raise StatsError(
                f"stats for feature '{key}' must be a dict of stat -> list, got {type(feature_stats).__name__}"
            )
        out[key] = {}
        for name, value in feature_stats.items():
            arr = _to_array(value, f"{key}/{name}")
            if name == "count":
                arr = arr.reshape(-1)[:1].round().astype(np.int64)
            out[key][name] = arr
    return out


def _to_lists(stats: dict[str, dict[str, np.ndarray]]) -> dict[str, dict[str, list]]:
    return {key: {name: np.asarray(v).tolist() for name, v in s.items()} for key, s in stats.items()}


def write_stats_json(stats: dict[str, dict[str, np.ndarray]], path: str | Path) -> None:
    """Write `meta/stats.json` atomically (temp file in the same folder, then `os.replace`).

    Arrays become nested lists (floats; `count` as ints), as the reference writes them.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_to_lists(stats), indent=4)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_stats_json(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """Read `meta/stats.json` into numpy arrays (see `cast_stats_to_numpy`).

    Raises:
        FileNotFoundError: no such file.
        StatsError: the file is not JSON of the form {feature: {stat: list}}.
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise StatsError(f"{path}: not valid JSON ({e}); delete it and recompute the stats") from e
    if not isinstance(raw, dict):
        raise StatsError(f"{path}: expected a JSON object {{feature: {{stat: list}}}}, got {type(raw).__name__}")
    try:
        return cast_stats_to_numpy(raw)
    except StatsError as e:
        raise StatsError(f"{path}: {e}") from e


def flatten_stats_columns(stats: dict[str, dict[str, np.ndarray]]) -> dict[str, list]:
    """One episode's stats as episode-table columns `stats/<feature>/<stat>` -> nested list.

    pyarrow infers the reference's column types from these values: `list<double>` for vectors and
    scalars, `list<list<list<double>>>` for images, `list<int64>` for `count`
    (`stats_column_types` gives them explicitly).
    """
    return {
        f"{STATS_COLUMN_PREFIX}{key}/{name}": value for key, s in _to_lists(stats).items() for name, value in s.items()
    }


def unflatten_stats_columns(row: dict) -> dict[str, dict[str, np.ndarray]]:
    """Inverse of `flatten_stats_columns`; other columns of `row` are ignored."""
    nested: dict[str, dict] = {}
    for column, value in row.items():
        if not column.startswith(STATS_COLUMN_PREFIX):
            continue
        key, sep, name = column[len(STATS_COLUMN_PREFIX) :].rpartition("/")
        if not sep:
            raise StatsError(f"episode column '{column}': expected 'stats/<feature>/<stat>'")
        nested.setdefault(key, {})[name] = value
    return cast_stats_to_numpy(nested)


def stats_column_types(stats: dict[str, dict[str, np.ndarray]]) -> dict:
    """pyarrow types of the `stats/...` columns, matching the reference's episode tables."""
    import pyarrow as pa

    def arrow_type(name: str, ndim: int) -> pa.DataType:
        t = pa.int64() if name == "count" else pa.float64()
        for _ in range(max(ndim, 1)):
            t = pa.list_(t)
        return t

    return {
        f"{STATS_COLUMN_PREFIX}{key}/{name}": arrow_type(name, np.ndim(v))
        for key, s in stats.items()
        for name, v in s.items()
    }
