"""Parquet files written by the recorder: atomic row-group files and `meta/tasks.parquet`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from robotlearn.datasets.metadata import TASKS_PATH, fsync_dir, fsync_file


def write_parquet_atomic(tables: list[pa.Table], path: Path, schema: pa.Schema) -> None:
    """Write `tables` as consecutive row groups (one per table) to `path`, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with pq.ParquetWriter(tmp, schema, compression="snappy") as writer:
        for table in tables:
            writer.write_table(
                table.cast(schema) if table.schema != schema else table, row_group_size=max(table.num_rows, 1)
            )
    fsync_file(tmp)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def read_row_groups(path: Path) -> list[pa.Table]:
    pf = pq.ParquetFile(path)
    return [pf.read_row_group(i) for i in range(pf.num_row_groups)]


def write_tasks(tasks: list[str], root: Path) -> None:
    """`meta/tasks.parquet`: column task_index, pandas index `task` (as the reference's DataFrame.to_parquet)."""
    pandas_meta = {
        "index_columns": ["task"],
        "column_indexes": [
            {
                "name": None,
                "field_name": None,
                "pandas_type": "unicode",
                "numpy_type": "object",
                "metadata": {"encoding": "UTF-8"},
            }
        ],
        "columns": [
            {
                "name": "task_index",
                "field_name": "task_index",
                "pandas_type": "int64",
                "numpy_type": "int64",
                "metadata": None,
            },
            {"name": "task", "field_name": "task", "pandas_type": "unicode", "numpy_type": "object", "metadata": None},
        ],
        "attributes": {},
        "creator": {"library": "pyarrow", "version": pa.__version__},
        "pandas_version": "2.3.3",
    }
    schema = pa.schema(
        [("task_index", pa.int64()), ("task", pa.string())], metadata={b"pandas": json.dumps(pandas_meta).encode()}
    )
    table = pa.table(
        {"task_index": pa.array(range(len(tasks)), pa.int64()), "task": pa.array(tasks, pa.string())}, schema=schema
    )
    write_parquet_atomic([table], root / TASKS_PATH, schema)
