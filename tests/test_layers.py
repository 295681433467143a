"""Imports flow one way: every import in src/robotlearn goes down the layer table, never in a cycle.

The walk reads every `.py` file of the package with `ast` and takes every import it holds: at
module level, inside functions, and under `if TYPE_CHECKING:` alike (a lazy or type-only import
still ties two modules together), both `import x` and `from x import y`, relative ones resolved,
plus `importlib.import_module("...")` with a literal name. `from robotlearn.a import b` is an edge
to the module robotlearn.a.b when b is a submodule, else to the package robotlearn.a (its
`__init__`). Third-party imports are not edges.

Layers, lowest first (issue 10): a module imports only from its own layer or lower ones; two
packages of one layer may import each other, but no modules may form a cycle.
"""

from __future__ import annotations

import ast
import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "robotlearn"
LAYERS: dict[str, int] = {
    "__init__": 0,  # the top-level robotlearn/__init__.py: imports nothing but layer 0
    "utils": 0,
    "errors": 0,
    "configs": 0,
    "datasets": 1,
    "motors": 1,
    "cameras": 1,
    "envs": 2,
    "policies": 2,
    "training": 3,
    "report": 3,
    "viewer": 3,
    "evaluation": 3,
    "robots": 4,
    "teleoperators": 4,
    "recording": 5,
    "transport": 5,
    "inference": 5,
    "rl": 5,
    "quickstart": 5,
    "scripts": 6,
}
# Loaded by `import robotlearn` would make every command (and `robotlearn --help`) slow to start.
HEAVY = ("torch", "numpy", "pyarrow", "av", "cv2", "gymnasium", "gym_pusht", "pygame", "pymunk", "PIL")


@dataclass(frozen=True)
class Import:
    file: str  # path relative to the source root, e.g. robotlearn/datasets/video.py
    line: int
    importer: str  # dotted module name
    imported: str  # dotted module name of the edge's target (may not exist: see table_violations)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def module_names(src: Path, package: str = PACKAGE) -> dict[str, Path]:
    """Dotted name -> file for every .py file under src/<package> (packages are their __init__.py)."""
    modules = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _resolve_from(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The absolute module named by `from <level dots><module> import ...` inside `importer`."""
    if not node.level:
        return node.module or ""
    parts = importer.split(".")
    base = parts if is_package else parts[:-1]  # a package's own __init__ is at level 1 of itself
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join(base + ([node.module] if node.module else []))


def collect_imports(src: Path, package: str = PACKAGE) -> tuple[dict[str, Path], list[Import]]:
    """Every import between modules of src/<package>: (module names -> files, import edges)."""
    modules = module_names(src, package)
    edges = []
    for importer, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve_from(node, importer, is_package)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    names.append(sub if sub in modules else base)
            elif (
                isinstance(node, ast.Call)
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and (
                    (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                    or (isinstance(node.func, ast.Name) and node.func.id in ("import_module", "__import__"))
                )
            ):
                names = [node.args[0].value]
            for name in names:
                if (name == package or name.startswith(package + ".")) and name != importer:
                    edges.append(Import(path.relative_to(src).as_posix(), node.lineno, importer, name))
    return modules, edges


def area(module: str, package: str = PACKAGE) -> str:
    """robotlearn.datasets.video -> datasets; robotlearn.errors -> errors; robotlearn -> __init__."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def table_violations(
    modules: dict[str, Path], edges: list[Import], layers: dict[str, int], package: str = PACKAGE
) -> list[str]:
    """Modules whose area is not in the layer table, and imports of modules that do not exist."""
    out = [
        f"{m}: module in area {area(m, package)!r}, which is not in the layer table: add the area to "
        f"LAYERS in tests/test_layers.py (and to the layer list of issue 10)"
        for m in modules
        if area(m, package) not in layers
    ]
    for e in edges:
        if e.imported not in modules:
            out.append(f"{e.where} {e.importer} -> {e.imported}: no such module in {package}")
    return out


def upward_violations(
    modules: dict[str, Path], edges: list[Import], layers: dict[str, int], package: str = PACKAGE
) -> list[str]:
    """Imports of a module in a higher layer than the importer's, one line each."""
    out = []
    for e in edges:
        a, b = area(e.importer, package), area(e.imported, package)
        if a in layers and b in layers and layers[b] > layers[a]:
            out.append(
                f"{e.where} {e.importer} -> {e.imported}: layer {layers[a]} ({a}) imports "
                f"layer {layers[b]} ({b}), an upward import"
            )
    return sorted(set(out))


def find_cycles(edges: list[Import]) -> list[list[Import]]:
    """Import cycles of two modules or more, as lists of edges: the shortest cycle through each
    module that lies on one, each distinct cycle once."""
    graph: dict[str, dict[str, Import]] = {}
    for e in edges:
        graph.setdefault(e.importer, {}).setdefault(e.imported, e)  # the first import of each pair
    cycles, seen = [], set()
    for start in sorted(graph):
        parent: dict[str, str] = {}  # breadth-first search from start back to start
        frontier, last = [start], None
        while frontier and last is None:
            nxt = []
            for node in frontier:
                for succ in sorted(graph.get(node, {})):
                    if succ == start:
                        last = node
                        break
                    if succ not in parent:
                        parent[succ] = node
                        nxt.append(succ)
                if last is not None:
                    break
            frontier = nxt
        if last is None:
            continue
        nodes = [last]
        while nodes[-1] != start:
            nodes.append(parent[nodes[-1]])
        nodes.reverse()  # start -> ... -> last (-> start)
        rot = nodes.index(min(nodes))
        key = tuple(nodes[rot:] + nodes[:rot])
        if len(key) >= 2 and key not in seen:
            seen.add(key)
            cycles.append([graph[key[i]][key[(i + 1) % len(key)]] for i in range(len(key))])
    return cycles


def format_cycle(cycle: list[Import]) -> str:
    chain = " -> ".join([e.importer for e in cycle] + [cycle[0].importer])
    where = ", ".join(f"{e.where} {e.importer} -> {e.imported}" for e in cycle)
    return f"cycle {chain}: {where}"


def fail_listing(title: str, lines: list[str]) -> None:
    """Fails the test with one violation per line (and no traceback)."""
    if lines:
        pytest.fail(f"{len(lines)} {title}:\n" + "\n".join(lines), pytrace=False)


# ---------------------------------------------------------------------------------------------
# the package


@functools.cache
def package_graph() -> tuple[dict[str, Path], list[Import]]:
    return collect_imports(SRC)


def test_every_module_is_in_the_layer_table_and_every_import_exists():
    modules, edges = package_graph()
    assert len(modules) > 50 and len(edges) > 100  # the walk found the package
    fail_listing(
        "modules outside the layer table or imports of missing modules", table_violations(modules, edges, LAYERS)
    )


def test_no_import_goes_up_the_layers():
    fail_listing("upward imports (file:line importer -> imported)", upward_violations(*package_graph(), LAYERS))


def test_no_import_cycles():
    cycles = [format_cycle(c) for c in find_cycles(package_graph()[1])]
    fail_listing("import cycles (each edge as file:line importer -> imported)", cycles)


def test_import_robotlearn_loads_nothing_heavy():
    import subprocess

    code = f"import sys; import {PACKAGE}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"`import {PACKAGE}` loads {proc.stdout.strip()}"


# ---------------------------------------------------------------------------------------------
# the walker itself, on a synthetic package


def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "robotlearn" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_walker_finds_imports_in_functions_type_checking_and_relative_forms(tmp_path):
    src = write_package(
        tmp_path,
        {
            "__init__.py": "",
            "utils/__init__.py": "from . import io\n",  # relative: robotlearn.utils.io
            "utils/io.py": "import json\n",
            "datasets/__init__.py": "from robotlearn.utils import io, helper\n",  # submodule / name in __init__
            "datasets/reader.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from ..utils.io import load\n"
                "def f():\n    import robotlearn.utils.io\n    from . import missing\n"
                "def g():\n    importlib.import_module('robotlearn.datasets')\n"
            ),
        },
    )
    modules, edges = collect_imports(src)
    assert sorted(modules) == [
        "robotlearn",
        "robotlearn.datasets",
        "robotlearn.datasets.reader",
        "robotlearn.utils",
        "robotlearn.utils.io",
    ]
    got = sorted((e.importer, e.imported, e.line) for e in edges)
    assert got == [
        ("robotlearn.datasets", "robotlearn.utils", 1),  # `helper` is a name of robotlearn/utils/__init__
        ("robotlearn.datasets", "robotlearn.utils.io", 1),
        ("robotlearn.datasets.reader", "robotlearn.datasets", 6),  # `from . import missing`: not a submodule
        ("robotlearn.datasets.reader", "robotlearn.datasets", 8),  # importlib.import_module
        ("robotlearn.datasets.reader", "robotlearn.utils.io", 3),  # under TYPE_CHECKING, relative
        ("robotlearn.datasets.reader", "robotlearn.utils.io", 5),  # inside a function
        ("robotlearn.utils", "robotlearn.utils.io", 1),
    ]
    assert not table_violations(modules, edges, LAYERS)
    assert not upward_violations(modules, edges, LAYERS)
    assert not find_cycles(edges)  # a package importing its submodules is no cycle


def test_walker_reports_upward_imports_cycles_and_modules_outside_the_table(tmp_path):
    src = write_package(
        tmp_path,
        {
            "__init__.py": "from robotlearn.datasets import reader\n",  # layer 0 importing layer 1
            "datasets/__init__.py": "",
            "datasets/reader.py": "def f():\n    from robotlearn.policies.act import Model\n",  # 1 -> 2, lazily
            "policies/__init__.py": "",
            "policies/act.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                "    from robotlearn.policies.bus import Bus\nModel = 1\n"
            ),
            "policies/bus.py": "from .act import Model\n",  # act <-> bus, one side type-only
            "motors/a.py": "from robotlearn.cameras import b\n",
            "cameras/b.py": "from robotlearn.motors.a import x\n",  # same layer, other package: allowed, but a cycle
            "plugins/thing.py": "from robotlearn.ghost import y\n",  # not in the table; imports a missing module
        },
    )
    modules, edges = collect_imports(src)

    upward = upward_violations(modules, edges, LAYERS)
    assert [line.split(" ", 1)[1] for line in upward] == [
        "robotlearn -> robotlearn.datasets.reader: layer 0 (__init__) imports layer 1 (datasets), an upward import",
        "robotlearn.datasets.reader -> robotlearn.policies.act: layer 1 (datasets) imports layer 2 (policies), "
        "an upward import",
    ]
    assert upward[0].startswith("robotlearn/__init__.py:1 ")
    assert upward[1].startswith("robotlearn/datasets/reader.py:2 ")

    cycles = [[e.importer for e in c] for c in find_cycles(edges)]
    assert sorted(cycles) == [
        ["robotlearn.cameras.b", "robotlearn.motors.a"],
        ["robotlearn.policies.act", "robotlearn.policies.bus"],
    ]
    text = format_cycle(find_cycles(edges)[0])
    assert text.startswith("cycle robotlearn.cameras.b -> robotlearn.motors.a -> robotlearn.cameras.b: ")
    assert "cameras/b.py:1" in text and "motors/a.py:1" in text

    table = table_violations(modules, edges, LAYERS)
    assert len(table) == 2
    assert table[0].startswith("robotlearn.plugins.thing: module in area 'plugins', which is not in the layer table")
    assert table[1].endswith("robotlearn.plugins.thing -> robotlearn.ghost: no such module in robotlearn")


def test_a_longer_cycle_is_reported_once_with_its_whole_path(tmp_path):
    src = write_package(
        tmp_path,
        {
            "__init__.py": "",
            "utils/__init__.py": "",
            "utils/a.py": "import robotlearn.utils.b\n",
            "utils/b.py": "from robotlearn.utils import c\n",
            "utils/c.py": "from .a import f\n",
        },
    )
    cycles = find_cycles(collect_imports(src)[1])
    assert len(cycles) == 1
    assert format_cycle(cycles[0]).startswith(
        "cycle robotlearn.utils.a -> robotlearn.utils.b -> robotlearn.utils.c -> robotlearn.utils.a: "
    )
