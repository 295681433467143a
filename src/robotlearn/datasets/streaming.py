"""`StreamingLeRobotDataset`: train from a local folder, an HTTP server, a bucket or the Hub without downloading.

    ds = StreamingLeRobotDataset("user/pusht", root="https://example.org/pusht",
                                 delta_timestamps={"observation.image": [-0.1, 0.0], "action": [0.0, 0.1]})
    loader = DataLoader(ds, batch_size=64, num_workers=4)
    for epoch in range(10):
        ds.set_epoch(epoch)
        for batch in loader: ...

How it works, top to bottom:
1. Only `meta/` is read up front (info.json, tasks, the episodes table without its stats columns,
   stats.json), through the same loaders as the map-style reader (`LeRobotDatasetMetadata.from_filesystem`).
2. An epoch's order: the selected episodes are permuted by (seed, epoch) (identity with shuffle=False),
   their frames laid end to end, and that sequence cut into `world_size * num_workers` contiguous,
   near-equal ranges; worker w of rank r takes range r * num_workers + w. Every frame is in exactly one
   range and every worker gets work even when episodes are fewer than workers.
3. A worker walks its range and mixes frame *indices* through a `buffer_size` reservoir (seeded by seed,
   epoch and the range), so the buffer costs a few bytes per slot, not a decoded sample.
4. A frame is read when it leaves the buffer: its episode's Parquet row group(s) are fetched by byte
   range and kept while any of the episode's frames are buffered; video frames are decoded by PyAV from
   fsspec file objects (block-cached range reads; local files directly) kept open in a bounded per-process
   LRU (`DecoderCache`), straight into channels-first tensors as the map-style reader does.
   The sample is assembled by `sample.assemble_item`, the same code path as `LeRobotDataset.__getitem__`,
   so the two return identical samples for the same frame.
5. Network errors are retried with exponential backoff at the byte-range level (`remote.py`).

Resuming mid-epoch (`state_dict` / `load_state_dict`): the order above is a pure function of
(seed, epoch, episodes, shuffle, buffer_size, world_size, num_workers), so a position is just how many
samples each worker has handed out. With `num_workers=0` the dataset counts them itself. With DataLoader
workers, the loader takes batches from its workers round-robin (torch's default in_order=True), so
`state_dict(samples_consumed=n, loader=loader)` recovers each worker's count from the n samples your loop
received this epoch (n counts the whole epoch, across earlier restarts). Restart with the same world size,
num_workers and batch size; `load_state_dict` then makes each worker skip (without reading) exactly the
samples already delivered. Each rank saves and loads its own state.

    state = ds.state_dict(samples_consumed=step_in_epoch * batch_size, loader=loader)   # save with the model
    ds.load_state_dict(state)                                                         # before iter(loader)
"""

from __future__ import annotations

import multiprocessing
import os
import random
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import torch

from robotlearn.datasets.errors import DatasetFormatError
from robotlearn.datasets.features import image_hwc_shape
from robotlearn.datasets.metadata import CODEBASE_VERSION, LeRobotDatasetMetadata, default_root
from robotlearn.datasets.remote import RemoteFS, RetryConfig
from robotlearn.datasets.sample import SampleAssembler, camera_tensor
from robotlearn.datasets.table import LoadedFile
from robotlearn.datasets.video_decode import DecoderCache, decode_frames
from robotlearn.datasets.windows import check_delta_timestamps, delta_indices

STATE_VERSION = 1
OPEN_PARQUET_FILES = 4  # per process; each holds its footer and a few cached blocks

# Open files and decoders inherited through fork() belong to the parent: a child keeps them referenced here
# and never touches them, since closing them would run FFmpeg teardown / the parent's HTTP session close.
_FORK_ORPHANS: list = []


class _ProcessCache:
    """Open Parquet files (with their row-group index ranges) and video decoders of one process."""

    def __init__(self, max_open_videos: int | None):
        self.pid = os.getpid()
        self.decoders = DecoderCache(max_open=max_open_videos)
        self.parquet: OrderedDict[str, tuple[pq.ParquetFile, list, object]] = OrderedDict()

    def close(self) -> None:
        """Close every file now. fsspec files sit in reference cycles; left to the garbage collector, an open
        one could be finalized in a forked DataLoader worker (closing the parent's decoder or session there)."""
        self.decoders.clear()
        for _, _, f in self.parquet.values():
            f.close()
        self.parquet.clear()


class _SharedEpoch:
    """The epoch number in shared memory, so that persistent DataLoader workers see `set_epoch` too."""

    def __init__(self, value: int = 0):
        self._shared = multiprocessing.RawValue("q", value)

    @property
    def value(self) -> int:
        return int(self._shared.value)

    def set(self, value: int) -> None:
        self._shared.value = int(value)

    def __getstate__(self):
        from multiprocessing.context import get_spawning_popen

        # Shared with a worker being spawned; a plain copy (pickle.dumps, deepcopy) gets its own counter.
        return {"shared": self._shared} if get_spawning_popen() is not None else {"value": self.value}

    def __setstate__(self, state):
        self._shared = state["shared"] if "shared" in state else multiprocessing.RawValue("q", state["value"])


class _EpisodeRows:
    """Loaded rows of the episodes that still have frames in the shuffle buffer (refcounted)."""

    def __init__(self, load: Callable[[int], LoadedFile]):
        self._load = load
        self._held: Counter = Counter()
        self._loaded: dict[int, LoadedFile] = {}

    def hold(self, ep: int) -> None:
        self._held[ep] += 1

    def release(self, ep: int) -> None:
        self._held[ep] -= 1
        if self._held[ep] <= 0:
            del self._held[ep]
            self._loaded.pop(ep, None)

    def get(self, ep: int) -> LoadedFile:
        loaded = self._loaded.get(ep)
        if loaded is None:
            loaded = self._loaded[ep] = self._load(ep)
        return loaded


class StreamingLeRobotDataset(torch.utils.data.IterableDataset):
    """An iterable PyTorch dataset that reads a LeRobotDataset v3.0 lazily from any fsspec location.

    Args:
        repo_id: "user/name".
        root: a local folder or an fsspec URL: "http(s)://...", "s3://bucket/prefix", "hf://datasets/<repo>".
            Default: the local cache folder `default_root(repo_id)` when it holds the dataset, else
            "hf://datasets/<repo_id>@<revision>".
        episodes: episode indices to stream (default: all).
        delta_timestamps, image_transforms, tolerance_s, return_uint8: as `LeRobotDataset`; each sample
            equals `LeRobotDataset(...)[i]` for its frame.
        shuffle: permute episodes per epoch and mix frames through a buffer; False streams file order.
        buffer_size: frames mixed at a time per worker (only indices are buffered).
        seed: base of every random choice; the order is a function of (seed, epoch, topology).
        storage_options: fsspec options, e.g. {"endpoint_url": "http://...", "key": ..., "secret": ...} for S3.
        max_retries, backoff_s, timeout_s: network retry policy (see `remote.RetryConfig`).
        rank, world_size: distributed position; default: from torch.distributed if initialized, else 0 / 1.
        revision: Hub revision for the default root (default "v3.0").
        block_size: bytes per range request; max_open_videos: video files kept open per process.
    """

    def __init__(
        self,
        repo_id: str,
        root: str | Path | None = None,
        episodes: list[int] | None = None,
        delta_timestamps: dict[str, list[float]] | None = None,
        image_transforms: Callable | None = None,
        tolerance_s: float = 1e-4,
        shuffle: bool = True,
        buffer_size: int = 1000,
        seed: int = 0,
        return_uint8: bool = False,
        storage_options: dict | None = None,
        max_retries: int = 8,
        backoff_s: float = 0.2,
        timeout_s: float = 30.0,
        rank: int | None = None,
        world_size: int | None = None,
        revision: str | None = None,
        block_size: int = 1 << 20,
        max_open_videos: int | None = None,
    ):
        super().__init__()
        cached = default_root(repo_id)
        if root is None and (cached / "meta" / "info.json").exists():
            url = str(cached)  # a local copy in the cache wins: no network unless needed
        elif root is None:
            url = f"hf://datasets/{repo_id}@{revision or CODEBASE_VERSION}"
        elif isinstance(root, Path) or "://" not in str(root):
            url = str(Path(root).expanduser().resolve())
        else:
            url = str(root)
        if buffer_size < 1:
            raise ValueError(f"buffer_size must be >= 1, got {buffer_size}")
        if (rank is None) != (world_size is None) or (world_size is not None and not 0 <= rank < world_size):
            raise ValueError(
                f"pass both rank and world_size with 0 <= rank < world_size, got rank={rank}, world_size={world_size}"
            )
        self.repo_id = repo_id
        self.retry = RetryConfig(max_retries=max_retries, backoff_s=backoff_s, timeout_s=timeout_s)
        self.remote = RemoteFS(url, storage_options, self.retry, block_size=block_size)
        self.meta = LeRobotDatasetMetadata.from_filesystem(repo_id, self.remote, self.remote.root)
        self.root = self.meta.root
        self.delta_timestamps = delta_timestamps
        self.image_transforms = image_transforms
        self.tolerance_s = tolerance_s
        self.shuffle = shuffle
        self.buffer_size = int(buffer_size)
        self.seed = int(seed)
        self.return_uint8 = return_uint8
        self.max_open_videos = max_open_videos
        self._rank, self._world_size = rank, world_size

        meta = self.meta
        n_eps = meta.total_episodes
        if episodes is not None:
            bad = [e for e in episodes if not 0 <= int(e) < n_eps]
            if bad:
                raise ValueError(f"episodes={bad} do not exist in {meta.root} (it has episodes 0..{n_eps - 1})")
            episodes = sorted({int(e) for e in episodes})
        self.episodes = episodes
        self._selected = np.arange(n_eps, dtype=np.int64) if episodes is None else np.array(episodes, dtype=np.int64)
        self._deltas = None
        if delta_timestamps is not None:
            check_delta_timestamps(delta_timestamps, meta.fps, tolerance_s, meta.features)
            self._deltas = delta_indices(delta_timestamps, meta.fps)
        cols = meta.episode_columns
        empty = np.zeros(0, np.int64)
        self._ep_from = cols.get("dataset_from_index", empty).astype(np.int64)
        self._ep_to = cols.get("dataset_to_index", empty).astype(np.int64)
        self._data_chunk = cols.get("data/chunk_index", empty).astype(np.int64)
        self._data_file = cols.get("data/file_index", empty).astype(np.int64)
        self._video_paths: dict[tuple[str, int], tuple] = {}  # (video key, episode) -> (path, its URL)
        self._video_cols = {
            key: (
                cols[f"videos/{key}/chunk_index"].astype(np.int64),
                cols[f"videos/{key}/file_index"].astype(np.int64),
                cols[f"videos/{key}/from_timestamp"].astype(np.float64).tolist(),
            )
            for key in meta.video_keys
            if n_eps
        }
        self._frame_hw = {key: image_hwc_shape(meta.features[key])[:2] for key in meta.video_keys}
        self._assemble = SampleAssembler(meta, self._deltas)
        self._epoch = _SharedEpoch(0)
        self._resume: dict | None = None
        self._taken_here = 0  # samples this process's iterator handed out in the current epoch (num_workers=0)
        self._cache: _ProcessCache | None = None

    # --- properties --------------------------------------------------------------------------
    @property
    def fps(self) -> int:
        return self.meta.fps

    @property
    def features(self) -> dict[str, dict]:
        return self.meta.features

    @property
    def num_episodes(self) -> int:
        return len(self._selected)

    @property
    def num_frames(self) -> int:
        """Frames in one epoch over all ranks and workers."""
        return int((self._ep_to[self._selected] - self._ep_from[self._selected]).sum())

    def __repr__(self) -> str:
        return f"StreamingLeRobotDataset(repo_id={self.repo_id!r}, root='{self.remote.url}', episodes={self.num_episodes}, frames={self.num_frames})"

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_cache"] = None  # open files and decoders belong to the process that opened them
        return state

    @property
    def epoch(self) -> int:
        return self._epoch.value

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose order the next iteration produces (call before each epoch, on every rank).

        Reaches DataLoader workers that already exist (persistent_workers=True) through shared memory.
        """
        self._epoch.set(epoch)
        self._taken_here = 0

    # --- the epoch's order -------------------------------------------------------------------
    def _topology(self) -> tuple[int, int, int, int]:
        """(rank, world_size, worker, num_workers) of the calling process."""
        if self._world_size is not None:
            rank, world = self._rank, self._world_size
        elif torch.distributed.is_available() and torch.distributed.is_initialized():
            rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
        else:
            rank, world = 0, 1
        info = torch.utils.data.get_worker_info()
        worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
        return rank, world, worker, workers

    def _episode_order(self, epoch: int) -> np.ndarray:
        if not self.shuffle:
            return self._selected
        return np.random.default_rng([self.seed, epoch]).permutation(self._selected)

    def _shard_bounds(self, epoch: int, shard: int, num_shards: int) -> tuple[np.ndarray, np.ndarray, int, int]:
        order = self._episode_order(epoch)
        starts = np.concatenate([[0], np.cumsum(self._ep_to[order] - self._ep_from[order])])
        total = int(starts[-1])
        return order, starts, shard * total // num_shards, (shard + 1) * total // num_shards

    def shard_size(self, epoch: int, shard: int, num_shards: int) -> int:
        """Samples that shard `shard` of `num_shards` (rank * num_workers + worker) yields in `epoch`."""
        _, _, lo, hi = self._shard_bounds(epoch, shard, num_shards)
        return hi - lo

    def _pieces(self, epoch: int, shard: int, num_shards: int) -> list[tuple[int, int, int]]:
        """(episode, first absolute index, end) ranges of this shard, in stream order."""
        order, starts, lo, hi = self._shard_bounds(epoch, shard, num_shards)
        pieces = []
        i = max(int(np.searchsorted(starts, lo, side="right")) - 1, 0)
        while i < len(order) and starts[i] < hi:
            a, b = max(lo, int(starts[i])), min(hi, int(starts[i + 1]))
            if b > a:
                ep = int(order[i])
                base = int(self._ep_from[ep]) - int(starts[i])
                pieces.append((ep, base + a, base + b))
            i += 1
        return pieces

    def _frame_order(self, pieces, rng: random.Random, rows: _EpisodeRows) -> Iterator[tuple[int, int]]:
        """(absolute index, episode) in delivery order; holds each episode's rows while it has buffered frames."""
        mix = self.shuffle and self.buffer_size > 1
        buffer: list[tuple[int, int]] = []
        for ep, lo, hi in pieces:
            rows.hold(ep)  # pinned while its frames are entering the buffer
            for a in range(lo, hi):
                rows.hold(ep)
                if not mix:
                    yield a, ep
                elif len(buffer) < self.buffer_size:
                    buffer.append((a, ep))
                else:
                    j = rng.randrange(self.buffer_size)
                    out, buffer[j] = buffer[j], (a, ep)
                    yield out
            rows.release(ep)
        rng.shuffle(buffer)
        yield from buffer

    def __iter__(self) -> Iterator[dict]:
        rank, world, worker, workers = self._topology()
        shard, num_shards = rank * workers + worker, world * workers
        epoch = self.epoch
        skip = 0
        if self._resume is not None and self._resume["epoch"] == epoch:
            skip = self._resume_skip(rank, world, worker, workers)
        pieces = self._pieces(epoch, shard, num_shards)
        rng = random.Random(int(np.random.SeedSequence([self.seed, epoch, shard, num_shards]).generate_state(1)[0]))
        rows = _EpisodeRows(self._load_episode)
        self._taken_here = 0
        try:
            for a, ep in self._frame_order(pieces, rng, rows):
                if self._taken_here < skip:
                    self._taken_here += 1  # delivered before the restart: skip without reading
                    rows.release(ep)
                    continue
                item = self._sample(rows.get(ep), a, ep)
                rows.release(ep)
                self._taken_here += 1
                yield item
            if self._resume is not None and self._resume["epoch"] == epoch:
                self._resume = None
        finally:  # epoch done or iteration abandoned: release files and decoders deterministically
            if self._cache is not None and self._cache.pid == os.getpid():
                self._cache.close()

    # --- reading -----------------------------------------------------------------------------
    @property
    def _local(self) -> _ProcessCache:
        if self._cache is None or self._cache.pid != os.getpid():
            if self._cache is not None:
                _FORK_ORPHANS.append(self._cache)
            self._cache = _ProcessCache(self.max_open_videos)
        return self._cache

    def _parquet(self, path: str) -> tuple[pq.ParquetFile, list]:
        files = self._local.parquet
        entry = files.get(path)
        if entry is not None:
            files.move_to_end(path)
            return entry[:2]
        f = self.remote.open(path)
        try:
            pf = pq.ParquetFile(f)
        except FileNotFoundError:
            raise DatasetFormatError(
                f"{self.remote.full_url(path)}: data file not found (referenced by meta/episodes)"
            ) from None
        except pa.ArrowException as e:
            raise DatasetFormatError(
                f"{self.remote.full_url(path)}: cannot read data file (truncated or not Parquet?): {e}"
            ) from None
        entry = files[path] = (pf, _index_ranges(pf), f)
        while len(files) > OPEN_PARQUET_FILES:
            files.popitem(last=False)[1][2].close()
        return entry[:2]

    def _load_episode(self, ep: int) -> LoadedFile:
        """The rows of episode `ep`: only the row groups whose `index` range overlaps it are fetched."""
        path = self.meta.data_file(int(self._data_chunk[ep]), int(self._data_file[ep]))
        start, end = int(self._ep_from[ep]), int(self._ep_to[ep])
        pf, ranges = self._parquet(path)
        groups = [g for g, r in enumerate(ranges) if r is None or (r[0] < end and r[1] >= start)]
        try:
            table = pf.read_row_groups(groups)
        except pa.ArrowException as e:
            raise DatasetFormatError(
                f"{self.remote.full_url(path)}: cannot read the row groups of episode {ep}: {e}"
            ) from None
        if table.num_rows != end - start:
            index = table.column("index")
            table = table.filter(pc.and_(pc.greater_equal(index, start), pc.less(index, end)))
        if table.num_rows != end - start:
            raise DatasetFormatError(
                f"{self.remote.full_url(path)}: episode {ep} should have {end - start} rows (index {start}..{end - 1}) "
                f"but the file holds {table.num_rows}; meta/episodes and the data file disagree"
            )
        return LoadedFile(self.remote.full_url(path), self.meta.features, table)

    def _sample(self, loaded: LoadedFile, absolute: int, ep: int) -> dict:
        return self._assemble(
            loaded, absolute, ep, int(self._ep_from[ep]), int(self._ep_to[ep]), self._decode, self.image_transforms
        )

    def _decode(self, key: str, ep: int, times: list, squeeze: bool, out: torch.Tensor | None) -> torch.Tensor:
        chunk, file, from_ts = self._video_cols[key]
        paths = self._video_paths.get((key, ep))
        if paths is None:  # formatted and checked once per episode, not per sample
            path = self.meta.video_file(key, int(chunk[ep]), int(file[ep]))
            paths = self._video_paths[(key, ep)] = (path, self.remote.full_url(path))
        path, url = paths
        start = from_ts[ep]  # Python floats: a numpy call here costs more than the sum
        times = [start + t for t in times]
        return camera_tensor(
            lambda frames: decode_frames(
                url,
                times,
                tolerance_s=self.tolerance_s,
                episode_index=ep,
                cache=self._local.decoders,
                # A local root is opened natively, as the map-style reader does (its MP4 index then serves
                # random access); other stores through fsspec by byte ranges.
                opener=None if self.remote.protocol == "file" else (lambda: self.remote.open(path)),
                channels_first=True,
                out=frames,
            ),
            len(times),
            self._frame_hw[key],
            self.return_uint8,
            squeeze,
            out,
        )

    # --- resuming ----------------------------------------------------------------------------
    def state_dict(
        self, samples_consumed: int | None = None, loader: torch.utils.data.DataLoader | None = None
    ) -> dict:
        """The position in the current epoch, as a small JSON-able dict.

        Without DataLoader workers (iterating in this process) call `state_dict()`. With workers pass
        `samples_consumed` (samples your loop received from `loader` this epoch, across restarts) and
        `loader`, whose num_workers / batch_size / drop_last define how worker streams were interleaved.
        """
        rank, world, _, _ = self._topology()
        workers = max(loader.num_workers, 1) if loader is not None else 1
        if samples_consumed is None:
            if workers > 1:
                raise ValueError(
                    "state_dict: with DataLoader workers pass samples_consumed= (samples your loop received this "
                    "epoch); the workers' progress is not visible from the main process"
                )
            taken = [self._taken_here]
        else:
            base = self._resume_taken(rank, world, workers)
            shards = [self.shard_size(self.epoch, rank * workers + w, world * workers) for w in range(workers)]
            since = int(samples_consumed) - sum(base)
            if since < 0:
                raise ValueError(
                    f"state_dict: samples_consumed={samples_consumed} is less than the {sum(base)} samples "
                    "already consumed before the restart; count every sample of the epoch"
                )
            batch_size = (loader.batch_size or 1) if loader is not None else 1
            drop_last = bool(loader.drop_last) if loader is not None else False
            more = _round_robin(since, [s - b for s, b in zip(shards, base)], batch_size, drop_last)
            taken = [b + m for b, m in zip(base, more)]
        return {
            "version": STATE_VERSION,
            "epoch": self.epoch,
            "seed": self.seed,
            "shuffle": self.shuffle,
            "buffer_size": self.buffer_size,
            "episodes": self.episodes,
            "rank": rank,
            "world_size": world,
            "num_workers": workers,
            "taken": taken,
        }

    def load_state_dict(self, state: dict) -> None:
        """Continue from `state` (from `state_dict`): the next iteration of its epoch skips what was delivered."""
        if state.get("version") != STATE_VERSION:
            raise ValueError(
                f"load_state_dict: unsupported state version {state.get('version')!r} (expected {STATE_VERSION})"
            )
        for key in ("seed", "shuffle", "buffer_size", "episodes"):
            if state[key] != getattr(self, key):
                raise ValueError(
                    f"load_state_dict: the state was saved with {key}={state[key]!r} but this dataset has "
                    f"{key}={getattr(self, key)!r}; the sample order would differ. Recreate it with the same {key}."
                )
        self._epoch.set(int(state["epoch"]))
        self._resume = dict(state)
        self._taken_here = 0

    def _resume_taken(self, rank: int, world: int, workers: int) -> list[int]:
        state = self._resume
        if state is None or state["epoch"] != self.epoch:
            return [0] * workers
        self._check_topology(state, rank, world, workers)
        return list(state["taken"])

    def _resume_skip(self, rank: int, world: int, worker: int, workers: int) -> int:
        self._check_topology(self._resume, rank, world, workers)
        return int(self._resume["taken"][worker])

    @staticmethod
    def _check_topology(state: dict, rank: int, world: int, workers: int) -> None:
        saved = (state["rank"], state["world_size"], state["num_workers"])
        if saved != (rank, world, workers):
            raise ValueError(
                f"load_state_dict: the state was saved at rank {saved[0]} of world_size {saved[1]} with num_workers="
                f"{saved[2]} but is resumed at rank {rank} of {world} with num_workers={workers}; resume with the same "
                "topology (the split of frames between workers depends on it)"
            )


def _index_ranges(pf: pq.ParquetFile) -> list[tuple[int, int] | None]:
    """(min, max) of the `index` column per row group from the footer statistics; None where absent."""
    meta = pf.metadata
    col = next((j for j in range(meta.num_columns) if meta.schema.column(j).path == "index"), None)
    ranges = []
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(col).statistics if col is not None else None
        ranges.append((int(stats.min), int(stats.max)) if stats is not None and stats.has_min_max else None)
    return ranges


def _round_robin(samples: int, remaining: list[int], batch_size: int, drop_last: bool) -> list[int]:
    """Samples each worker delivered when a DataLoader took `samples` from worker streams of `remaining`
    sizes, one batch per worker in turn, skipping exhausted workers (torch's in-order behaviour)."""
    taken = [0] * len(remaining)
    left = samples
    while left > 0:
        progressed = False
        for w, n in enumerate(remaining):
            size = min(batch_size, n - taken[w])
            if size <= 0 or (drop_last and size < batch_size):
                continue
            if size > left:
                raise ValueError(
                    f"state_dict: samples_consumed does not end on a batch boundary (batch_size={batch_size}); "
                    "pass the number of samples in the batches your loop received"
                )
            taken[w] += size
            left -= size
            progressed = True
            if left == 0:
                break
        if not progressed:
            raise ValueError(f"state_dict: samples_consumed exceeds the {sum(remaining)} samples of this epoch")
    return taken
