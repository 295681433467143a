"""Dataset metadata: `meta/info.json`, `meta/tasks.parquet`, `meta/episodes/`, `meta/stats.json`.

`LeRobotDatasetMetadata` loads these without touching `data/` or `videos/`, so opening a dataset of
any size is fast. The episodes table is the source of truth: totals are derived from it, and a
disagreeing `info.json` (a process killed between the two writes) is reported and corrected in memory.

Every loader takes an optional fsspec-like `fs` (anything with `open(path, "rb")` and `exists(path)`);
with one, `root` is a "/"-separated string in that filesystem (a bucket, an HTTP server, the Hub) and
nothing is listed: episode files are found by probing the (chunk, file) sequence. `StreamingLeRobotDataset`
uses this through `LeRobotDatasetMetadata.from_filesystem`.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
import stat
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from robotlearn.datasets.errors import DatasetFormatError
from robotlearn.datasets.features import DEFAULT_FEATURES, validate_features

logger = logging.getLogger(__name__)

CODEBASE_VERSION = "v3.0"
INFO_PATH = "meta/info.json"
STATS_PATH = "meta/stats.json"
TASKS_PATH = "meta/tasks.parquet"
EPISODES_DIR = "meta/episodes"
CHUNK_FILE_PATTERN = "chunk-{chunk_index:03d}/file-{file_index:03d}"
DEFAULT_DATA_PATH = "data/" + CHUNK_FILE_PATTERN + ".parquet"
DEFAULT_VIDEO_PATH = "videos/{video_key}/" + CHUNK_FILE_PATTERN + ".mp4"
EPISODES_PATH = EPISODES_DIR + "/" + CHUNK_FILE_PATTERN + ".parquet"
DEFAULT_CHUNKS_SIZE = 1000
DEFAULT_DATA_FILE_SIZE_MB = 100
DEFAULT_VIDEO_FILE_SIZE_MB = 200


def default_root(repo_id: str) -> Path:
    """Where a dataset lives when no root is given: `$ROBOTLEARN_HOME/datasets/<repo_id>`.

    ROBOTLEARN_HOME defaults to `~/.cache/robotlearn`.
    """
    home = Path(os.environ.get("ROBOTLEARN_HOME", Path.home() / ".cache" / "robotlearn")).expanduser()
    return home / "datasets" / repo_id


def join_root(root: Path | str, relative: str) -> Path | str:
    """`root / relative` for a local Path, "root/relative" for a string root in an fsspec filesystem."""
    return root / relative if isinstance(root, Path) else f"{root.rstrip('/')}/{relative}"


def resolve_in_root(root: Path | str, relative: str, field: str) -> Path | str:
    """Join a path read from metadata to the dataset root, refusing anything that would leave it.

    A Path root is a local folder (symlinks resolved); a str root is a "/"-separated location in an
    fsspec filesystem (the result is a str too).
    """
    if os.path.isabs(relative) or relative.startswith(("~", "/")) or "://" in relative:
        raise DatasetFormatError(
            f"{join_root(root, INFO_PATH)}: field {field!r} gives an absolute path {relative!r}; paths must be relative to the dataset root"
        )
    if isinstance(root, str):
        norm = posixpath.normpath(relative.replace("\\", "/"))
        if norm == ".." or norm.startswith("../"):
            raise DatasetFormatError(
                f"{join_root(root, INFO_PATH)}: field {field!r} resolves to {relative!r}, outside the dataset root {root}. "
                f"Fix the path template in meta/info.json."
            )
        return join_root(root, norm)
    path = (root / relative).resolve()
    base = root.resolve()
    if path != base and base not in path.parents:
        raise DatasetFormatError(
            f"{root / INFO_PATH}: field {field!r} resolves to {relative!r}, outside the dataset root {root}. "
            f"Fix the path template in meta/info.json."
        )
    return path


def chunk_file(index: int, chunks_size: int) -> tuple[int, int]:
    """The (chunk, file) pair of the `index`-th file of a tree (files go chunk-000/file-000..999, chunk-001/...)."""
    return index // chunks_size, index % chunks_size


def next_chunk_file(chunk_index: int, file_index: int, chunks_size: int) -> tuple[int, int]:
    if file_index + 1 >= chunks_size:
        return chunk_index + 1, 0
    return chunk_index, file_index + 1


MAX_JSON_BYTES = 64 * 2**20  # no valid info.json or stats.json comes near this


def read_json(path: Path | str, fs=None) -> dict:
    if fs is None and os.path.exists(path):
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):  # a FIFO would block open() forever
            raise DatasetFormatError(f"{path}: not a regular file; expected a JSON file")
        if st.st_size > MAX_JSON_BYTES:
            raise DatasetFormatError(f"{path}: {st.st_size} bytes, larger than any valid metadata file")
    try:
        with open(path, "rb") if fs is None else fs.open(path, "rb") as f:
            return json.load(f)
    except UnicodeDecodeError as e:
        raise DatasetFormatError(f"{path}: not UTF-8 JSON ({e.reason} at byte {e.start})") from None
    except FileNotFoundError:
        raise DatasetFormatError(f"{path}: file not found. Is this a LeRobotDataset v3.0 root?") from None
    except json.JSONDecodeError as e:
        raise DatasetFormatError(f"{path}: invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None


def write_json_atomic(data: dict, path: Path) -> None:
    """Write JSON so that readers see the old or the new file, never a half-written one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as f:
        json.dump(data, f, indent=4)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_file(path: Path) -> None:
    """Flush a written file to disk before it is renamed into place."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Make a rename inside `path` durable (a no-op where the filesystem refuses directory fsync)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def validate_info(info: dict, path: Path) -> dict:
    """Check every field the reader relies on; errors name the file and field."""
    if not isinstance(info, dict):
        raise DatasetFormatError(f"{path}: expected a JSON object, got {type(info).__name__}")

    def need(key, types, check=None, hint=""):
        if key not in info:
            raise DatasetFormatError(f"{path}: missing field {key!r}. {hint}".strip())
        value = info[key]
        if (
            not isinstance(value, types)
            or isinstance(value, bool)
            and bool not in (types if isinstance(types, tuple) else (types,))
        ):
            raise DatasetFormatError(
                f"{path}: field {key!r} must be {getattr(types, '__name__', types)}, got {value!r}"
            )
        if check is not None and not check(value):
            raise DatasetFormatError(f"{path}: field {key!r} has invalid value {value!r}. {hint}".strip())
        return value

    version = need("codebase_version", str)
    if not version.startswith("v3"):
        raise DatasetFormatError(
            f"{path}: codebase_version is {version!r}; robotlearn reads LeRobotDataset v3.x. "
            f"Convert it: robotlearn dataset convert --root={os.path.dirname(os.path.dirname(str(path)))} --output=<new folder>"
        )
    fps = info.get("fps")
    if isinstance(fps, float) and fps.is_integer():
        info["fps"] = int(fps)
    need("fps", int, lambda v: v > 0, "fps must be a positive integer")
    need("features", dict)
    need("data_path", str)
    if info.get("video_path") is not None and not isinstance(info["video_path"], str):
        raise DatasetFormatError(f"{path}: field 'video_path' must be a string or null, got {info['video_path']!r}")
    for key, default in (
        ("chunks_size", DEFAULT_CHUNKS_SIZE),
        ("data_files_size_in_mb", DEFAULT_DATA_FILE_SIZE_MB),
        ("video_files_size_in_mb", DEFAULT_VIDEO_FILE_SIZE_MB),
    ):
        info.setdefault(key, default)
        need(key, (int, float), lambda v: v > 0)
    for key in ("total_episodes", "total_frames", "total_tasks"):
        info.setdefault(key, 0)
        need(key, int, lambda v: v >= 0)
    try:
        info["features"] = validate_features(info["features"], where=f"{path}: features")
    except Exception as e:
        raise DatasetFormatError(str(e)) from None
    for name in DEFAULT_FEATURES:
        if name not in info["features"]:
            raise DatasetFormatError(f"{path}: features lacks the mandatory {name!r} feature")
    has_video = any(ft["dtype"] == "video" for ft in info["features"].values())
    if has_video and not info.get("video_path"):
        raise DatasetFormatError(f"{path}: the dataset has video features but 'video_path' is null")
    return info


def _read_parquet(path: Path | str, what: str, columns=None, fs=None) -> pa.Table:
    try:
        if fs is not None:
            with fs.open(path, "rb") as f:
                return pq.read_table(f, columns=columns)
        return pq.read_table(path, columns=columns)
    except FileNotFoundError:
        raise DatasetFormatError(f"{path}: {what} file not found") from None
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as e:
        raise DatasetFormatError(f"{path}: cannot read {what} (truncated or not Parquet?): {e}") from None


def load_tasks(root: Path | str, fs=None) -> list[str]:
    """Task strings ordered by task_index (the table's pandas index is named `task`)."""
    path = join_root(root, TASKS_PATH)
    if not (path.exists() if fs is None else fs.exists(path)):
        return []
    table = _read_parquet(path, "tasks", fs=fs)
    if "task_index" not in table.column_names or "task" not in table.column_names:
        raise DatasetFormatError(f"{path}: expected columns 'task' and 'task_index', found {table.column_names}")
    idx = table.column("task_index").to_pylist()
    names = table.column("task").to_pylist()
    order = np.argsort(idx, kind="stable")
    if sorted(idx) != list(range(len(idx))):
        raise DatasetFormatError(f"{path}: task_index values must be 0..{len(idx) - 1} with no gaps, got {sorted(idx)}")
    return [names[i] for i in order]


def episode_files(root: Path | str, fs=None, chunks_size: int = DEFAULT_CHUNKS_SIZE) -> list[Path | str]:
    """All episode-metadata parquet files in (chunk, file) order.

    Locally the folder is listed. In an fsspec filesystem (HTTP servers cannot list) the files
    chunk-000/file-000, the next per `chunks_size`, ... are probed until one is missing.
    """
    if fs is None:
        base = root / EPISODES_DIR
        if not base.exists():
            return []
        return sorted(p for p in base.glob("chunk-*/file-*.parquet"))
    found, chunk, file = [], 0, 0
    while True:
        path = join_root(root, EPISODES_PATH.format(chunk_index=chunk, file_index=file))
        if not fs.exists(path):
            return found
        found.append(path)
        chunk, file = next_chunk_file(chunk, file, chunks_size)


def load_episodes_table(
    root: Path | str, with_stats: bool = False, fs=None, chunks_size: int = DEFAULT_CHUNKS_SIZE
) -> pa.Table | None:
    """Concatenate every `meta/episodes` file (optionally dropping `stats/...` columns, which are then never read)."""
    tables = []
    for path in episode_files(root, fs, chunks_size):
        schema = _read_schema(path, "episodes metadata", fs)
        cols = [c for c in schema.names if with_stats or not c.startswith("stats/")]
        tables.append(_read_parquet(path, "episodes metadata", columns=cols, fs=fs))
    if not tables:
        return None
    try:
        return pa.concat_tables(tables, promote_options="default")
    except pa.ArrowException as e:
        raise DatasetFormatError(
            f"{join_root(root, EPISODES_DIR)}: episode files have incompatible columns: {e}"
        ) from None


def _read_schema(path: Path | str, what: str, fs=None) -> pa.Schema:
    try:
        if fs is not None:
            with fs.open(path, "rb") as f:
                return pq.read_schema(f)
        return pq.read_schema(path)
    except FileNotFoundError:
        raise DatasetFormatError(f"{path}: {what} file not found") from None
    except (pa.ArrowInvalid, pa.ArrowException, OSError) as e:
        raise DatasetFormatError(f"{path}: cannot read {what} (truncated or not Parquet?): {e}") from None


def _float_stats(raw: dict) -> dict[str, dict[str, np.ndarray]]:
    return {feat: {k: np.asarray(v, dtype=np.float64) for k, v in st.items()} for feat, st in raw.items()}


def load_stats(root: Path | str, fs=None) -> dict[str, dict[str, np.ndarray]]:
    path = join_root(root, STATS_PATH)
    if not (path.exists() if fs is None else fs.exists(path)):
        return {}
    raw = read_json(path, fs)
    try:
        return _float_stats(raw)
    except (AttributeError, ValueError, TypeError) as e:
        raise DatasetFormatError(f"{path}: malformed statistics ({e})") from None


def _episode_columns(table: pa.Table) -> dict[str, np.ndarray]:
    """The episodes table as column name -> numpy array (list columns as object arrays of lists)."""
    columns = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            columns[name] = np.array(col.to_pylist(), dtype=object)
        else:
            columns[name] = col.to_numpy()
    return columns


class LeRobotDatasetMetadata:
    """Everything about a dataset except its frames.

    Args:
        repo_id: "user/name"; used for the default root and hub downloads.
        root: the dataset folder. Default: `default_root(repo_id)`.
        download: fetch from the Hugging Face Hub when `root` has no dataset. None (default) means
            "only when the local copy is missing".
        revision: hub revision (default "v3.0").
    """

    def __init__(
        self, repo_id: str, root: str | Path | None = None, download: bool | None = None, revision: str | None = None
    ):
        self.repo_id = repo_id
        self.fs = None  # local files; see from_filesystem
        self.root = Path(root).expanduser() if root is not None else default_root(repo_id)
        if not (self.root / INFO_PATH).exists() and download is not False:
            if download is None and root is not None and self.root.exists():
                pass  # a local folder without info.json: report the missing file below, don't download over it
            elif repo_id.startswith("local/"):
                # "local/..." names a dataset made here (the default of `robotlearn record`): no Hub repository
                raise DatasetFormatError(
                    f"No dataset at {self.root} ({self.root / INFO_PATH} is missing): pass "
                    "--dataset.root (root=) pointing to a LeRobotDataset folder"
                )
            else:
                download_from_hub(repo_id, self.root, revision=revision)
        self.reload()

    @classmethod
    def from_filesystem(cls, repo_id: str, fs, root: str) -> LeRobotDatasetMetadata:
        """Metadata of a dataset at `root` inside an fsspec-like filesystem `fs` (HTTP, S3, the Hub, ...).

        Reads only meta/: info.json, tasks.parquet, the episodes table without its stats columns and
        stats.json. `.root` is then the string `root`, and `data_file` / `video_file` return strings in `fs`.
        """
        self = cls.__new__(cls)
        self.repo_id = repo_id
        self.fs = fs
        self.root = root.rstrip("/")
        self.reload()
        return self

    def reload(self) -> None:
        """(Re)read every metadata file from disk (or from `self.fs`)."""
        pending = self.__dict__.get("_stats_pending")
        if pending is not None:
            pending.result()  # meta/stats.json is being written: read it once it is
        fs = self.fs
        info_path = join_root(self.root, INFO_PATH)
        self.info = validate_info(read_json(info_path, fs), info_path)
        for field in ("data_path", "video_path"):
            template = self.info.get(field)
            if template:
                try:
                    sample = template.format(
                        video_key="k", chunk_index=0, file_index=0, episode_chunk=0, episode_index=0
                    )
                except (KeyError, IndexError, ValueError) as e:
                    raise DatasetFormatError(
                        f"{info_path}: template {field}={template!r} cannot be formatted ({e!r}); v3.0 templates use "
                        "{video_key}, {chunk_index} and {file_index}"
                    ) from None
                resolve_in_root(self.root, sample, field)
        self.tasks = load_tasks(self.root, fs)
        self.stats = load_stats(self.root, fs)
        self._load_episodes()

    @property
    def stats(self) -> dict[str, dict[str, np.ndarray]]:
        """Feature -> {"min", "max", "mean", "std", "count", "q01", ...} arrays (meta/stats.json)."""
        pending = self.__dict__.get("_stats_pending")
        if pending is not None:  # a writer is aggregating the episodes saved so far (add_saved_episode)
            self._stats = _float_stats(pending.result())
            self._stats_pending = None
        return self._stats

    @stats.setter
    def stats(self, value: dict) -> None:
        self._stats_pending = None
        self._stats = value

    def add_saved_episode(self, info: dict, tasks: list[str], stats, row: pa.Table) -> None:
        """Take in an episode the writer has just committed, without re-reading the files: `info` and `tasks`
        as written to meta/, `stats` a Future of the aggregated statistics it is writing to meta/stats.json
        (`self.stats` waits for it), `row` the one-row table appended to meta/episodes. What `reload()`
        would then read, checked by the same rules; when the row's columns or types differ from the loaded
        ones (e.g. a dataset another writer started), this is `reload()` once `stats` is written."""
        new = _episode_columns(row.select([c for c in row.column_names if not c.startswith("stats/")]))
        old = self.episode_columns
        if self.total_episodes and (
            list(new) != list(old) or any(new[k].dtype != old[k].dtype for k in new if k in old)
        ):
            stats.result()
            self.reload()
            return
        self.info = validate_info(json.loads(json.dumps(info)), join_root(self.root, INFO_PATH))  # as read back
        self.tasks = list(tasks)
        self._stats_pending = stats
        columns = {}
        for name, values in new.items():
            if name not in old:
                columns[name] = values
            elif values.dtype == object:  # lists: rebuilt whole, as numpy shapes them (ragged or not)
                columns[name] = np.array(old[name].tolist() + values.tolist(), dtype=object)
            else:
                columns[name] = np.concatenate([old[name], values])
        self.episode_columns = columns
        self._check_episodes(len(self.episode_columns["episode_index"]))

    def _load_episodes(self) -> None:
        table = load_episodes_table(self.root, fs=self.fs, chunks_size=self.info["chunks_size"])
        self.episode_columns: dict[str, np.ndarray] = {} if table is None else _episode_columns(table)
        self._check_episodes(0 if table is None else table.num_rows)

    def _check_episodes(self, n: int) -> None:
        where = join_root(self.root, EPISODES_DIR)
        required = [
            "episode_index",
            "length",
            "dataset_from_index",
            "dataset_to_index",
            "data/chunk_index",
            "data/file_index",
        ]
        required += [
            f"videos/{k}/{c}" for k in self.video_keys for c in ("chunk_index", "file_index", "from_timestamp")
        ]
        for name in required if n else []:
            if name not in self.episode_columns:
                raise DatasetFormatError(f"{where}: missing column {name!r} in the episodes table")
        if n:
            ep = self.episode_columns["episode_index"]
            if not np.array_equal(ep, np.arange(n)):
                raise DatasetFormatError(
                    f"{where}: episode_index must run 0..{n - 1} in order; found {ep[:20].tolist()}..."
                )
            start, end = self.episode_columns["dataset_from_index"], self.episode_columns["dataset_to_index"]
            if start[0] != 0 or np.any(start[1:] != end[:-1]) or np.any(end - start != self.episode_columns["length"]):
                raise DatasetFormatError(
                    f"{where}: dataset_from_index/dataset_to_index/length are inconsistent between episodes"
                )
        total_frames = int(self.episode_columns["dataset_to_index"][-1]) if n else 0
        if self.info["total_episodes"] != n or self.info["total_frames"] != total_frames:
            logger.warning(
                "%s says %d episodes / %d frames but the episodes table holds %d / %d (an interrupted write?); "
                "using the episodes table.",
                join_root(self.root, INFO_PATH),
                self.info["total_episodes"],
                self.info["total_frames"],
                n,
                total_frames,
            )
            self.info["total_episodes"], self.info["total_frames"] = n, total_frames
            self.info["splits"] = {"train": f"0:{n}"}
        self.info["total_tasks"] = len(self.tasks)

    # --- convenient views -------------------------------------------------------------------
    @property
    def fps(self) -> int:
        return self.info["fps"]

    @property
    def features(self) -> dict[str, dict]:
        return self.info["features"]

    @property
    def robot_type(self) -> str | None:
        return self.info.get("robot_type")

    @property
    def video_keys(self) -> list[str]:
        return [k for k, ft in self.features.items() if ft["dtype"] == "video"]

    @property
    def image_keys(self) -> list[str]:
        return [k for k, ft in self.features.items() if ft["dtype"] == "image"]

    @property
    def camera_keys(self) -> list[str]:
        return [k for k, ft in self.features.items() if ft["dtype"] in ("video", "image")]

    @property
    def total_episodes(self) -> int:
        return self.info["total_episodes"]

    @property
    def total_frames(self) -> int:
        return self.info["total_frames"]

    @property
    def total_tasks(self) -> int:
        return len(self.tasks)

    @property
    def chunks_size(self) -> int:
        return self.info["chunks_size"]

    @property
    def episodes(self) -> list[dict]:
        """One dict per episode (without the per-episode stats columns)."""
        cols = self.episode_columns
        n = self.total_episodes
        out = []
        for i in range(n):
            row = {}
            for name, values in cols.items():
                v = values[i]
                row[name] = v.item() if hasattr(v, "item") else list(v) if isinstance(v, (list, np.ndarray)) else v
            out.append(row)
        return out

    def episode_range(self, episode_index: int) -> tuple[int, int]:
        return int(self.episode_columns["dataset_from_index"][episode_index]), int(
            self.episode_columns["dataset_to_index"][episode_index]
        )

    def data_file(self, chunk_index: int, file_index: int) -> Path | str:
        return resolve_in_root(
            self.root, self.info["data_path"].format(chunk_index=chunk_index, file_index=file_index), "data_path"
        )

    def video_file(self, video_key: str, chunk_index: int, file_index: int) -> Path | str:
        rel = self.info["video_path"].format(video_key=video_key, chunk_index=chunk_index, file_index=file_index)
        return resolve_in_root(self.root, rel, "video_path")

    def __repr__(self) -> str:
        return (
            f"LeRobotDatasetMetadata(repo_id={self.repo_id!r}, root='{self.root}', episodes={self.total_episodes}, "
            f"frames={self.total_frames}, fps={self.fps}, cameras={self.camera_keys})"
        )


def download_from_hub(repo_id: str, root: Path, revision: str | None = None, allow_patterns=None) -> None:
    """Fetch a dataset snapshot from the Hugging Face Hub into `root` (a thin wrapper over huggingface_hub)."""
    try:
        from huggingface_hub import snapshot_download

        snapshot_download(
            repo_id,
            repo_type="dataset",
            revision=revision or CODEBASE_VERSION,
            local_dir=root,
            allow_patterns=allow_patterns,
        )
    except Exception as e:
        raise DatasetFormatError(
            f"No dataset at {root} ({root / INFO_PATH} is missing) and downloading {repo_id!r} from the Hugging Face Hub "
            f"failed: {type(e).__name__}: {e}. Pass root= pointing to a local LeRobotDataset folder."
        ) from None
