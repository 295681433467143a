"""`LeRobotDataset`: random access to a LeRobotDataset v3.0, and the entry point for writing one.

Reading a sample walks: metadata -> episode of the frame -> its data file (`table`) -> window rows,
tabular values, video frames and image transforms (`sample.assemble_item`, shared with the streaming
reader). Each step is a small function of its own module (`metadata`, `windows`, `table`, `video`).

    ds = LeRobotDataset("user/pusht", root="data/pusht",
                        delta_timestamps={"observation.image": [-0.1, 0.0], "action": [0.0, 0.1]})
    item = ds[0]    # {"observation.image": (2, 3, 96, 96) float, "action": (2, 2), "action_is_pad": (2,), ...}

Writing goes through `LeRobotDataset.create(...)` / `LeRobotDataset.resume(...)`, which return a
dataset in write mode (`add_frame`, `save_episode`, `clear_episode_buffer`, `finalize`); see `writer.py`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from robotlearn.datasets.collate import prefill_batch
from robotlearn.datasets.features import image_hwc_shape
from robotlearn.datasets.metadata import LeRobotDatasetMetadata
from robotlearn.datasets.sample import SampleAssembler, camera_tensor
from robotlearn.datasets.table import DataFileCache
from robotlearn.datasets.windows import check_delta_timestamps, delta_indices

_DECODE_FRAMES = None


def _load_decode_frames():
    """`video_decode.decode_frames`, imported on first use (PyAV loads then) and kept: an import statement
    per sample costs a microsecond."""
    global _DECODE_FRAMES
    from robotlearn.datasets.video_decode import decode_frames

    _DECODE_FRAMES = decode_frames
    return decode_frames


class LeRobotDataset(torch.utils.data.Dataset):
    """A map-style PyTorch dataset over a LeRobotDataset v3.0 folder.

    Args:
        repo_id: "user/name".
        root: dataset folder (default: `$ROBOTLEARN_HOME/datasets/<repo_id>`; downloaded from the
            Hugging Face Hub only when missing there).
        episodes: a subset of episode indices to expose (default: all).
        delta_timestamps: feature -> offsets in seconds relative to the current frame. Windowed
            features gain a leading time dim T and a `<key>_is_pad` bool (T,) mask.
        image_transforms: callable applied to each camera tensor (C, H, W) or (T, C, H, W).
        tolerance_s: max allowed gap between a requested and a decoded video timestamp.
        video_backend: "pyav" (default).
        return_uint8: return video frames as uint8 0..255 instead of float in [0, 1].
        camera_keys: read only these cameras (default: all); `[]` reads no frame at all, which
            makes batches for a state-only policy several times cheaper.
    """

    def __init__(
        self,
        repo_id: str,
        root: str | Path | None = None,
        episodes: list[int] | None = None,
        delta_timestamps: dict[str, list[float]] | None = None,
        image_transforms: Callable | None = None,
        tolerance_s: float = 1e-4,
        video_backend: str | None = None,
        return_uint8: bool = False,
        revision: str | None = None,
        download: bool | None = None,
        camera_keys: list[str] | None = None,
    ):
        super().__init__()
        self.repo_id = repo_id
        self.meta = LeRobotDatasetMetadata(repo_id, root, download=download, revision=revision)
        self.root = self.meta.root
        self.tolerance_s = tolerance_s
        self.image_transforms = image_transforms
        self.video_backend = video_backend or "pyav"
        if self.video_backend != "pyav":
            raise ValueError(f"video_backend={video_backend!r} is not supported; use 'pyav'")
        self.return_uint8 = return_uint8
        self.delta_timestamps = delta_timestamps
        self.writer = None
        unknown = sorted(set(camera_keys or ()) - set(self.meta.camera_keys))
        if unknown:
            raise ValueError(
                f"camera_keys={unknown} are not cameras of {self.meta.root} (it has {self.meta.camera_keys})"
            )
        # Which cameras to read: a state-only policy passes [] and no frame is decoded.
        self.camera_keys = None if camera_keys is None else frozenset(camera_keys)
        self._setup_reading(episodes)

    def _setup_reading(self, episodes: list[int] | None = None) -> None:
        meta = self.meta
        n_eps = meta.total_episodes
        if episodes is not None:
            bad = [e for e in episodes if not 0 <= int(e) < n_eps]
            if bad:
                raise ValueError(f"episodes={bad} do not exist in {meta.root} (it has episodes 0..{n_eps - 1})")
            episodes = sorted({int(e) for e in episodes})
        self.episodes = episodes
        self._deltas = None
        if self.delta_timestamps is not None:
            check_delta_timestamps(self.delta_timestamps, meta.fps, self.tolerance_s, meta.features)
            self._deltas = delta_indices(self.delta_timestamps, meta.fps)
        cols = meta.episode_columns
        self._ep_from = cols.get("dataset_from_index", np.zeros(0, np.int64)).astype(np.int64)
        self._ep_to = cols.get("dataset_to_index", np.zeros(0, np.int64)).astype(np.int64)
        self._ep_to_list = self._ep_to.tolist()  # bisect on a list: a few times faster than np.searchsorted on one int
        selected = range(n_eps) if episodes is None else episodes
        ranges = [np.arange(self._ep_from[e], self._ep_to[e], dtype=np.int64) for e in selected]
        self._absolute = np.concatenate(ranges) if ranges else np.zeros(0, np.int64)
        self._identity = episodes is None
        self._files = DataFileCache(meta.features)
        self._paths: dict = {}  # episode -> data file, (video key, episode) -> video file
        self._file_paths: dict[tuple[str | None, int, int], str] = {}  # (video key or None, chunk, file) -> path
        self._video_cols = {
            key: (
                cols[f"videos/{key}/chunk_index"].astype(np.int64),
                cols[f"videos/{key}/file_index"].astype(np.int64),
                cols[f"videos/{key}/from_timestamp"].astype(np.float64).tolist(),
            )
            for key in meta.video_keys
            if n_eps
        }
        self._assemble = SampleAssembler(meta, self._deltas, self.camera_keys)
        self._frame_hw = {key: image_hwc_shape(meta.features[key])[:2] for key in meta.video_keys}
        self._data_chunk = cols.get("data/chunk_index", np.zeros(0, np.int64)).astype(np.int64)
        self._data_file = cols.get("data/file_index", np.zeros(0, np.int64)).astype(np.int64)

    # --- basic properties (same names as the reference) -------------------------------------
    @property
    def fps(self) -> int:
        return self.meta.fps

    @property
    def features(self) -> dict[str, dict]:
        return self.meta.features

    @property
    def num_frames(self) -> int:
        return len(self._absolute)

    @property
    def num_episodes(self) -> int:
        return self.meta.total_episodes if self.episodes is None else len(self.episodes)

    def __len__(self) -> int:
        return len(self._absolute)

    def __repr__(self) -> str:
        return f"LeRobotDataset(repo_id={self.repo_id!r}, root='{self.root}', episodes={self.num_episodes}, frames={len(self)})"

    # --- reading -----------------------------------------------------------------------------
    def __getitem__(self, idx: int) -> dict:
        return self._item(idx)

    def __getitems__(self, indices: list[int]) -> list[dict]:
        """The samples of one DataLoader batch (the DataLoader calls this with each batch's indices). With
        `collate_samples` in the workers, each sample's frames are decoded straight into their place in the
        batch's shared memory (collate.prefill_batch), instead of being decoded, then stacked there."""
        if self.image_transforms is not None:  # transforms make new tensors: nothing to decode in place
            return [self._item(i) for i in indices]
        return prefill_batch(lambda j, out: self._item(indices[j], out), len(indices))

    def _item(self, idx: int, out: dict[str, torch.Tensor] | None = None) -> dict:
        if self.writer is not None and self.writer.has_pending_frames():
            raise RuntimeError(
                "This dataset is being recorded and has an unsaved episode; call save_episode() or "
                "clear_episode_buffer() first, or open LeRobotDataset(repo_id, root) in another object to read."
            )
        n = len(self._absolute)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} out of range for a dataset of {n} frames")
        absolute = int(self._absolute[idx])
        ep = bisect.bisect_right(self._ep_to_list, absolute)
        start, end = int(self._ep_from[ep]), int(self._ep_to[ep])
        loaded = self._files.get(self._data_path(ep))
        return self._assemble(loaded, absolute, ep, start, end, self._decode, self.image_transforms, out)

    def _data_path(self, ep: int) -> str:
        # Resolving (and checking) a path costs syscalls: do it once per episode, not per sample. A str, as
        # the data file cache's key: hashing and comparing Path objects costs microseconds per sample.
        path = self._paths.get(ep)
        if path is None:
            path = self._paths[ep] = self._resolved(None, int(self._data_chunk[ep]), int(self._data_file[ep]))
        return path

    def _resolved(self, key: str | None, chunk: int, file: int) -> str:
        """The path of data file (chunk, file) (`key` None) or of video `key`'s, resolved once per file:
        episodes share files, and resolving one (symlinks checked against the root) costs ~0.1 ms."""
        path = self._file_paths.get((key, chunk, file))
        if path is None:
            resolved = self.meta.data_file(chunk, file) if key is None else self.meta.video_file(key, chunk, file)
            path = self._file_paths[(key, chunk, file)] = str(resolved)
        return path

    def _decode(self, key: str, ep: int, times: list, squeeze: bool, out: torch.Tensor | None) -> torch.Tensor:
        decode_frames = _DECODE_FRAMES or _load_decode_frames()
        chunk, file, from_ts = self._video_cols[key]
        path = self._paths.get((key, ep))
        if path is None:  # as a str: the decoder cache's key, with no pathlib work per call
            path = self._paths[(key, ep)] = self._resolved(key, int(chunk[ep]), int(file[ep]))
        start = from_ts[ep]  # Python floats: a numpy call here costs more than the sum
        times = [start + t for t in times]
        return camera_tensor(
            lambda frames: decode_frames(
                path, times, tolerance_s=self.tolerance_s, episode_index=ep, channels_first=True, out=frames
            ),
            len(times),
            self._frame_hw[key],
            self.return_uint8,
            squeeze,
            out,
        )

    # --- writing (see writer.py) --------------------------------------------------------------
    @classmethod
    def create(
        cls,
        repo_id: str,
        fps: int,
        features: dict[str, dict],
        root: str | Path | None = None,
        robot_type: str | None = None,
        use_videos: bool = True,
        image_writer_threads: int = 0,
        image_writer_processes: int = 0,
        vcodec: str = "libsvtav1",
        tolerance_s: float = 1e-4,
        **writer_options,
    ) -> LeRobotDataset:
        """Start a new dataset at `root` (which must not exist or be empty) and return it in write mode.

        `features` maps names to {"dtype", "shape", "names"}; cameras use dtype "video" (MP4) or
        "image" (PNG in Parquet) with shape (H, W, C). Extra options: `data_files_size_in_mb`,
        `video_files_size_in_mb`, `chunks_size`, `crf`, `g`, `preset`, and `video_when_full`
        ("spill": never block add_frame when encoding falls behind, queue frames on disk; "block": wait).
        """
        from robotlearn.datasets.writer import DatasetWriter

        writer = DatasetWriter.create(
            repo_id,
            fps,
            features,
            root=root,
            robot_type=robot_type,
            use_videos=use_videos,
            image_writer_threads=max(image_writer_threads, image_writer_processes),
            vcodec=vcodec,
            **writer_options,
        )
        return cls._from_writer(writer, tolerance_s)

    @classmethod
    def resume(
        cls, repo_id: str, root: str | Path, vcodec: str | None = None, tolerance_s: float = 1e-4, **writer_options
    ) -> LeRobotDataset:
        """Reopen an existing dataset to append episodes. Saved episodes are never modified."""
        from robotlearn.datasets.writer import DatasetWriter

        writer = DatasetWriter.resume(repo_id, root, vcodec=vcodec, **writer_options)
        return cls._from_writer(writer, tolerance_s)

    @classmethod
    def _from_writer(cls, writer, tolerance_s: float) -> LeRobotDataset:
        ds = cls.__new__(cls)
        torch.utils.data.Dataset.__init__(ds)
        ds.repo_id = writer.repo_id
        ds.meta = writer.meta
        ds.root = writer.root
        ds.tolerance_s = tolerance_s
        ds.image_transforms = None
        ds.video_backend = "pyav"
        ds.return_uint8 = False
        ds.delta_timestamps = None
        ds.camera_keys = None
        ds.writer = writer
        ds._setup_reading(None)
        writer.on_episode_saved = lambda: ds._setup_reading(None)
        return ds

    def _require_writer(self):
        if self.writer is None:
            raise RuntimeError(
                "This dataset was opened for reading; use LeRobotDataset.create(...) or LeRobotDataset.resume(...) to write."
            )
        return self.writer

    def add_frame(self, frame: dict) -> None:
        """Buffer one frame of the current episode (must include 'task'); see DatasetWriter.add_frame."""
        self._require_writer().add_frame(frame)

    def save_episode(self) -> int:
        """Write the buffered episode durably; returns its episode index."""
        return self._require_writer().save_episode()

    def clear_episode_buffer(self) -> None:
        """Discard the episode in progress (nothing saved is touched)."""
        self._require_writer().clear_episode_buffer()

    def finalize(self) -> None:
        """Stop background work. Idempotent; not needed for durability (every saved episode already is)."""
        if self.writer is not None:
            self.writer.finalize()

    @property
    def episode_buffer(self):
        return None if self.writer is None else self.writer.buffer

    def push_to_hub(
        self, repo_id: str | None = None, private: bool = False, tags: list[str] | None = None, push_videos: bool = True
    ) -> None:
        """Upload the dataset folder to the Hugging Face Hub and tag it `v3.0` (needs network and a token)."""
        from robotlearn.datasets.hub import push_to_hub

        self.finalize()
        push_to_hub(self.root, repo_id or self.repo_id, private=private, tags=tags, push_videos=push_videos)
