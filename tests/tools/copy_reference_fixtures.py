"""Copies the reference-written fixture datasets the tests use into tests/fixtures/ (maintainers only).

    .venv/bin/python -m tests.tools.copy_reference_fixtures /path/to/shared/fixtures

The tests never read outside the repository; this script is how tests/fixtures/lerobot-0.6.1/ was
made from the reference fixtures (written by lerobot 0.6.1, see tests/fixtures/README.md). The
datasets are copied byte for byte. The `<name>.expected.*` files (what lerobot returned for
`dataset[i]`) are trimmed to a subset of their indices to keep the repository small: every
episode's first and last frame, frame 1 and frame -3 of the first and last episode (windows padded
on one side), and the first two interior indices. Kept entries are unchanged.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pyarrow.parquet as pq
from safetensors.numpy import load_file, save_file

DATASETS = ("pusht", "images", "rollover")
DEST = Path(__file__).resolve().parents[1] / "fixtures" / "lerobot-0.6.1"


def episode_bounds(root: Path) -> list[tuple[int, int]]:
    """(first, last) frame index of each episode, from meta/episodes/*/*.parquet."""
    bounds = []
    for path in sorted((root / "meta" / "episodes").glob("chunk-*/file-*.parquet")):
        for row in pq.read_table(path, columns=["dataset_from_index", "dataset_to_index"]).to_pylist():
            bounds.append((row["dataset_from_index"], row["dataset_to_index"] - 1))
    return bounds


def kept_indices(indices: list[int], bounds: list[tuple[int, int]]) -> list[int]:
    edges = {i for b in bounds for i in b}
    for first, last in (bounds[0], bounds[-1]):
        edges |= {first + 1, last - 3}
    interior = [i for i in indices if i not in edges and all(i not in (first + 1, last - 3) for first, last in bounds)]
    return sorted(i for i in indices if i in edges or i in interior[:2])


def main(shared_fixtures: str) -> int:
    src = Path(shared_fixtures) / "lerobot-0.6.1"
    DEST.mkdir(parents=True, exist_ok=True)
    for name in DATASETS:
        shutil.rmtree(DEST / name, ignore_errors=True)
        shutil.copytree(src / name, DEST / name)
        query = json.loads((src / f"{name}.expected.json").read_text())
        keep = kept_indices(query["indices"], episode_bounds(src / name))
        tensors = load_file(str(src / f"{name}.expected.safetensors"))
        save_file(
            {k: v for k, v in tensors.items() if int(k.split("/", 1)[0]) in keep},
            str(DEST / f"{name}.expected.safetensors"),
        )
        query.update(
            indices=keep,
            tasks={str(i): query["tasks"][str(i)] for i in keep},
            trimmed_from=f"{len(query['tasks'])} indices by tests/tools/copy_reference_fixtures.py",
        )
        (DEST / f"{name}.expected.json").write_text(json.dumps(query, indent=1) + "\n")
        print(f"{name}: dataset copied, expected samples kept for {len(keep)} indices: {keep}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
