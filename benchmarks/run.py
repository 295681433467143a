"""`make bench`: run every benchmarks/bench_*.py module's main(), each printing its own table.

python -m benchmarks.run              # all
python -m benchmarks.run dataset      # only bench_dataset.py
python -m benchmarks.run viewer       # only bench_viewer.py: the dataset viewer of 100 episodes
"""

import importlib
import pkgutil
import sys
import time
from pathlib import Path


def main(argv=None) -> None:
    only = set(argv if argv is not None else sys.argv[1:])
    names = sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_"))
    for name in names:
        if only and name.removeprefix("bench_") not in only:
            continue
        print(f"\n=== {name} ===", flush=True)
        t = time.perf_counter()
        sys.argv = [name]  # each benchmark's own flags keep their defaults
        importlib.import_module(f"benchmarks.{name}").main()
        print(f"({name}: {time.perf_counter() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
