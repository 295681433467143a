"""Fast row access to the `data/` Parquet files.

A data file is read on first use, one column at a time, into numpy arrays (images stay as encoded
bytes until a sample asks for them). Files are kept in a bounded per-process LRU, so random access
costs one numpy fancy-index per key and memory stays bounded on datasets of any size.
No conversion cache is written to disk: the Parquet files are the only copy.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from robotlearn.datasets.errors import DatasetFormatError


class LoadedFile:
    """The non-video columns of one data file, as numpy arrays indexed by row position."""

    def __init__(self, path: Path | str, features: dict[str, dict], table: pa.Table | None = None):
        """Read `path`, or take its already-read rows `table` (e.g. one episode's row group, streamed)."""
        self.path = path
        if table is None:
            try:
                table = pq.read_table(path)
            except FileNotFoundError:
                raise DatasetFormatError(f"{path}: data file not found (referenced by meta/episodes)") from None
            except (pa.ArrowException, OSError) as e:
                raise DatasetFormatError(f"{path}: cannot read data file (truncated or not Parquet?): {e}") from None
        if "index" not in table.column_names:
            raise DatasetFormatError(f"{path}: missing column 'index'")
        self.columns: dict[str, np.ndarray] = {}
        for name, ft in features.items():
            if ft["dtype"] == "video":
                continue
            if name not in table.column_names:
                raise DatasetFormatError(f"{path}: missing column {name!r} declared in meta/info.json features")
            self.columns[name] = column_to_numpy(table.column(name), ft, path, name)
        self.nbytes = sum(c.nbytes for c in self.columns.values() if c.dtype != object) + sum(
            table.column(n).nbytes for n, ft in features.items() if ft["dtype"] == "image"
        )
        index = self.columns["index"]
        self.first_index = int(index[0]) if len(index) else 0
        self.contiguous = bool(
            len(index) == 0 or (index[-1] - index[0] + 1 == len(index) and np.all(np.diff(index) == 1))
        )
        self._index = index

    def episode_rows(self, start: int, end: int):
        """A function from global `index` values within [start, end) (an int or an int array) to row positions.

        For a file whose index runs contiguously the range is checked once here, and the function is a
        subtraction; otherwise every lookup goes through `rows`. Raises DatasetFormatError naming the file
        when the episode's rows are not all in it."""
        if self.contiguous:
            first = self.first_index
            if start < first or end - 1 >= first + len(self._index):
                raise DatasetFormatError(
                    f"{self.path}: index {start}..{end - 1} not in this file (rows {first}..{first + len(self._index) - 1})"
                )
            return lambda absolute: absolute - first
        return lambda absolute: (
            int(self.rows(np.array([absolute]))[0]) if isinstance(absolute, int) else self.rows(absolute)
        )

    def rows(self, absolute_indices: np.ndarray) -> np.ndarray:
        """Row positions of global `index` values."""
        if self.contiguous:
            rows = absolute_indices - self.first_index
            if rows.min() < 0 or rows.max() >= len(self._index):
                raise DatasetFormatError(
                    f"{self.path}: index {absolute_indices.tolist()} not in this file (rows {self.first_index}..{self.first_index + len(self._index) - 1})"
                )
            return rows
        order = np.argsort(self._index)
        pos = np.searchsorted(self._index, absolute_indices, sorter=order)
        rows = order[np.clip(pos, 0, len(order) - 1)]
        if not np.array_equal(self._index[rows], absolute_indices):
            raise DatasetFormatError(f"{self.path}: index values {absolute_indices.tolist()} not found in this file")
        return rows


def column_to_numpy(col: pa.ChunkedArray, feature: dict, path: Path, name: str) -> np.ndarray:
    """Arrow column -> numpy: scalars (N,), fixed-size lists (N, *shape), images as an object array of bytes."""
    dtype = feature["dtype"]
    if dtype == "image":
        return np.array([None if v is None else v["bytes"] for v in col.to_pylist()], dtype=object)
    if dtype in ("string", "language"):
        return np.array(col.to_pylist(), dtype=object)
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    shape = list(feature["shape"])
    try:
        if shape == [1] and not pa.types.is_list(col.type) and not pa.types.is_fixed_size_list(col.type):
            return col.to_numpy(zero_copy_only=False).astype(np.dtype(dtype), copy=False)
        values = col
        while (
            pa.types.is_list(values.type)
            or pa.types.is_fixed_size_list(values.type)
            or pa.types.is_large_list(values.type)
        ):
            values = values.flatten()
        arr = values.to_numpy(zero_copy_only=False).astype(np.dtype(dtype), copy=False)
        return arr.reshape([len(col), *shape])
    except (ValueError, pa.ArrowException) as e:
        raise DatasetFormatError(
            f"{path}: column {name!r} does not match its declared shape {shape} / dtype {dtype}: {e}"
        ) from None


class DataFileCache:
    """Per-process LRU of loaded data files, bounded by bytes (env ROBOTLEARN_DATA_CACHE_MB, default 4096)."""

    def __init__(self, features: dict[str, dict], max_bytes: int | None = None):
        self.features = features
        self.max_bytes = max_bytes or int(os.environ.get("ROBOTLEARN_DATA_CACHE_MB", "4096")) * 2**20
        self._files: OrderedDict[Path, LoadedFile] = OrderedDict()
        self._pid = os.getpid()

    def get(self, path: Path) -> LoadedFile:
        if self._pid != os.getpid():  # forked worker: start afresh rather than share the parent's view
            self._files = OrderedDict()
            self._pid = os.getpid()
        loaded = self._files.get(path)
        if loaded is not None:
            self._files.move_to_end(path)
            return loaded
        loaded = LoadedFile(path, self.features)
        self._files[path] = loaded
        while len(self._files) > 1 and sum(f.nbytes for f in self._files.values()) > self.max_bytes:
            self._files.popitem(last=False)
        return loaded

    def __getstate__(self):
        # DataLoader workers get an empty cache (not a pickled copy of the parent's arrays).
        return {"features": self.features, "max_bytes": self.max_bytes}

    def __setstate__(self, state):
        self.__init__(state["features"], state["max_bytes"])
