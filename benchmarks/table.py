"""The plain-text table the benchmarks print: one row per measurement, columns padded to their widest cell."""

from __future__ import annotations


def print_table(header: tuple[str, ...], rows: list[tuple]) -> None:
    width = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(r):
        return " | ".join(str(c).ljust(w) for c, w in zip(r, width))

    print(line(header))
    print("-+-".join("-" * w for w in width))
    for r in rows:
        print(line(r))
