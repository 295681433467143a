"""What every dataset tool shares: the result it reports, dry runs, and writing through AtomicOutput."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from robotlearn.datasets.tools.output import AtomicOutput


@dataclass
class ToolResult:
    """What an operation did (or, with dry_run, would do). `lines` are for people, the rest for scripts."""

    operation: str
    output: str | None
    dry_run: bool
    lines: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "operation": self.operation,
            "output": self.output,
            "dry_run": self.dry_run,
            "lines": self.lines,
            **self.details,
        }


def resolve_output(root: Path, output: str | Path | None, in_place: bool, operation: str) -> Path:
    """The folder an operation writes: `output`, or the input itself with in_place. Raises ConfigError."""
    from robotlearn.errors import ConfigError

    if in_place and output:
        raise ConfigError(f"{operation}: pass either --output or --in-place, not both")
    if not in_place and not output:
        raise ConfigError(f"{operation}: --output is required (a new folder), or pass --in-place to replace the input")
    target = Path(root) if in_place else Path(output).expanduser()
    if not in_place and target.absolute() == Path(root).absolute():
        raise ConfigError(f"{operation}: --output is the input folder; use --in-place to replace it")
    return target


def write_atomically(target: Path, in_place: bool, build: Callable[[Path], None]) -> Path:
    """Run `build(folder)` into a hidden partial folder and move it to `target` when it returns."""
    with AtomicOutput(target, in_place=in_place) as out:
        build(out.path)
        return out.commit()


def parse_episode_list(text: str | list | None, n: int, what: str = "episodes") -> list[int]:
    """'0,3,5-7' or [0, 3] -> sorted unique episode indices, each checked against 0..n-1. Raises DatasetError."""
    from robotlearn.datasets.errors import DatasetError

    if text is None:
        return []
    items = text if isinstance(text, (list, tuple)) else [p for p in str(text).replace(" ", "").split(",") if p]
    out: set[int] = set()
    for item in items:
        try:
            if isinstance(item, str) and "-" in item.lstrip("-"):
                a, b = item.split("-", 1)
                out.update(range(int(a), int(b) + 1))
            else:
                out.add(int(item))
        except ValueError:
            raise DatasetError(f"{what}: cannot parse {item!r}; give indices like 0,3,5-7") from None
    bad = sorted(e for e in out if not 0 <= e < n)
    if bad:
        raise DatasetError(
            f"{what}: episodes {bad} do not exist (the dataset has episodes 0..{n - 1}); nothing was written"
        )
    return sorted(out)
