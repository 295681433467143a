"""Find a component class (robot, teleoperator, camera) by its type name, importing lazily.

Each package keeps a table `type name -> module`; the class is the subclass of the package's base
class in that module whose `name` attribute is the type name (or the only such subclass). Modules
are imported only when asked for, so a missing optional extra (pyserial, opencv) only breaks the
type that needs it, with an error naming the extra. Types not in the table are found by scanning
the package's modules, so a new robot file is picked up without editing the table.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
from typing import Any


class UnknownTypeError(ValueError):
    """No component of the requested type exists; the message lists the known types."""


def _classes_in(module, base) -> list[type]:
    return [
        obj
        for _, obj in inspect.getmembers(module, inspect.isclass)
        if issubclass(obj, base) and obj is not base and not inspect.isabstract(obj) and obj.__module__.startswith(module.__name__)
    ]


def _match(module, base, type_name: str) -> type | None:
    classes = _classes_in(module, base)
    named = [c for c in classes if getattr(c, "name", None) == type_name]
    if named:
        return named[0]
    return classes[0] if len(classes) == 1 else None


def find_class(kind: str, package: str, base: type, table: dict[str, str], type_name: str, extra_hint: str = "") -> type:
    """The class implementing `type_name` (see module docstring). `kind` is used in error messages."""
    if type_name in table:
        try:
            module = importlib.import_module(table[type_name])
        except ModuleNotFoundError as e:
            if e.name and e.name.startswith("robotlearn"):
                module = None  # not written yet: fall through to the scan
            else:
                raise ImportError(
                    f"{kind} type {type_name!r} needs the missing package {e.name!r}{extra_hint}"
                ) from e
        if module is not None:
            cls = _match(module, base, type_name)
            if cls is not None:
                return cls
    pkg = importlib.import_module(package)
    for info in pkgutil.walk_packages(pkg.__path__, package + "."):
        try:
            module = importlib.import_module(info.name)
        except ImportError:
            continue
        for cls in _classes_in(module, base):
            if getattr(cls, "name", None) == type_name:
                return cls
    known = sorted(set(table))
    raise UnknownTypeError(f"unknown {kind} type {type_name!r}; known types: {', '.join(known)}")


def config_class_of(cls: type, base_config: type) -> type:
    """The config dataclass of component class `cls` (its `config_class`, or one in its module)."""
    cfg = getattr(cls, "config_class", base_config)
    if cfg is base_config:
        module = inspect.getmodule(cls)
        pkg = importlib.import_module(module.__name__.rpartition(".")[0]) if "." in module.__name__ else module
        candidates = _classes_in(module, base_config) or _classes_in(pkg, base_config)
        if len(candidates) == 1:
            cfg = candidates[0]
    return cfg


def build_config(kind: str, type_name: str, config_cls: type, options: dict[str, Any], flag_prefix: str):
    """`config_cls(**options)` keeping only options that are set (not None); unknown ones raise.

    Options that the config does not have raise a ValueError naming the flag, unless their value
    is None/empty (a flat command-line dataclass leaves unused options unset).
    """
    names = {f.name for f in dataclasses.fields(config_cls)}
    kwargs = {}
    for key, value in options.items():
        if value is None or value == {} or value == "":
            continue
        if key not in names:
            raise ValueError(
                f"--{flag_prefix}.{key} is not an option of {kind} type {type_name!r} "
                f"(its options: {', '.join(sorted(names)) or 'none'})"
            )
        kwargs[key] = value
    return config_cls(**kwargs)
