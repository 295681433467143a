"""Atomic outputs for dataset tools: a new dataset appears complete or not at all.

Every tool writes into a hidden sibling folder `.<name>.partial-<pid>` and renames it to its final
name only when every file is written and fsynced. A crash (SIGKILL, power loss) therefore leaves
either no output or a hidden partial folder that no reader mistakes for a dataset (it lacks the
final name; `robotlearn dataset validate --repair` on the parent's datasets or a later run of the
tool removes stale ones). The input is only ever read.

`--in-place` swaps the finished folder with the input in one `renameat2(RENAME_EXCHANGE)` call
(Linux), so the input's name holds the old or the new dataset at every instant; elsewhere it falls
back to two renames (a crash between them leaves the old dataset at `.<name>.old-<pid>`, which the
message of the next run names).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
from pathlib import Path

from robotlearn.datasets.errors import DatasetError
from robotlearn.datasets.metadata import fsync_dir

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap the names `a` and `b` (Linux renameat2); False where unsupported."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def fsync_tree(root: Path) -> None:
    """fsync every file and folder under `root` (before it is renamed into place)."""
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


def remove_stale_partials(parent: Path, name: str) -> list[Path]:
    """Delete `.<name>.partial-*` folders left by killed runs whose process is gone; returns them."""
    removed = []
    if not parent.is_dir():
        return removed
    for p in parent.glob(f".{name}.partial-*"):
        pid = p.name.rsplit("-", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class AtomicOutput:
    """Build a dataset folder in a hidden sibling and move it into place on `commit()`.

        with AtomicOutput(out_root) as out:      # or AtomicOutput(root, in_place=True)
            write files under out.path
            out.commit()

    Leaving the block without `commit()` (an exception) deletes the partial folder.
    Raises DatasetError if the output exists already (tools never write over a dataset).
    """

    def __init__(self, target: str | os.PathLike, in_place: bool = False):
        self.target = Path(target).expanduser().absolute()
        self.in_place = in_place
        if not in_place and self.target.exists():
            raise DatasetError(
                f"{self.target} already exists; dataset tools never write over a folder. "
                "Choose another output or pass --in-place to replace the input."
            )
        if in_place and not self.target.is_dir():
            raise DatasetError(f"{self.target}: --in-place needs an existing dataset folder")
        self.target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(self.target.parent, self.target.name)
        self.path = self.target.parent / f".{self.target.name}.partial-{os.getpid()}"
        shutil.rmtree(self.path, ignore_errors=True)
        self.path.mkdir()
        self.committed = False

    def __enter__(self) -> AtomicOutput:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.committed:
            shutil.rmtree(self.path, ignore_errors=True)

    def commit(self) -> Path:
        """fsync the new tree and move it to the target name; returns the target."""
        fsync_tree(self.path)
        if not self.in_place:
            os.rename(self.path, self.target)  # fails if a folder appeared there meanwhile: never overwrite
        elif _exchange(self.path, self.target):
            shutil.rmtree(self.path, ignore_errors=True)  # now holds the old dataset
        else:
            old = self.target.parent / f".{self.target.name}.old-{os.getpid()}"
            os.rename(self.target, old)
            os.rename(self.path, self.target)
            shutil.rmtree(old, ignore_errors=True)
        fsync_dir(self.target.parent)
        self.committed = True
        return self.target
