"""One registry design for every area: a table of `"name": "module:Class"` strings, resolved on lookup.

    ROBOTS = Registry("robot", {
        "sim_pusht": "robotlearn.robots.sim_pusht:SimPushT",
        "so100_follower": "robotlearn.robots.so100_follower:SO100Follower",
    }, entry_point_group="robotlearn.robots", extra={"so100_follower": "hardware"})
    cls = ROBOTS.get("sim_pusht")          # imports robotlearn.robots.sim_pusht only now
    config_cls = ROBOTS.config_class("sim_pusht")

Why strings: importing `robotlearn.robots` must not import pyserial, and `robotlearn.policies`
must not import a later policy's `tokenizers`. A class is imported only when asked for; if its
module needs a package that is missing, the error names the extra that installs it. Nothing is
found by scanning modules and no ImportError is swallowed.

Third-party packages add entries through Python entry points, the ecosystem's convention. In the
plugin's pyproject.toml:

    [project.entry-points."robotlearn.robots"]
    my_arm = "my_package.my_arm:MyArm"

The entry point's value has the same "module:Class" form. Built-in names win over plugins.
"""

from __future__ import annotations

import difflib
import importlib
from importlib import metadata
from typing import Any

from robotlearn.errors import MissingDependencyError, UnknownTypeError


class Registry:
    """Name -> "module:Class" table for one kind of component (robot, camera, policy, env, ...).

    Args:
        kind: what the entries are, for messages ("robot", "camera").
        entries: built-in name -> "module:Class".
        entry_point_group: the entry-point group plugins register in (e.g. "robotlearn.robots").
        extras: name -> the pip extra its dependencies come with (e.g. "hardware"), for the
            message when one is missing.
    """

    def __init__(
        self,
        kind: str,
        entries: dict[str, str],
        entry_point_group: str | None = None,
        extras: dict[str, str] | None = None,
    ):
        for name, target in entries.items():
            if ":" not in target:
                raise ValueError(f"{kind} registry entry {name!r}: {target!r} is not of the form 'module:Class'")
        self.kind = kind
        self._entries = dict(entries)
        self.entry_point_group = entry_point_group
        self._extras = dict(extras or {})
        self._plugins: dict[str, str] | None = None

    # -- the table ---------------------------------------------------------------------------
    def _plugin_entries(self) -> dict[str, str]:
        if self._plugins is None:
            self._plugins = {}
            if self.entry_point_group:
                for ep in metadata.entry_points(group=self.entry_point_group):
                    self._plugins.setdefault(ep.name, ep.value)
        return self._plugins

    def refresh(self) -> None:
        """Forget the cached plugin entry points (after installing a plugin in this process)."""
        self._plugins = None

    def entries(self) -> dict[str, str]:
        """Every name -> "module:Class": built-ins, then plugins (built-ins win on a clash)."""
        return {**self._plugin_entries(), **self._entries}

    def names(self) -> list[str]:
        """Every registered name, sorted."""
        return sorted(self.entries())

    def __contains__(self, name: object) -> bool:
        return name in self.entries()

    def __iter__(self):
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.entries())

    def register(self, name: str, target: str) -> None:
        """Adds an entry at run time (tests, notebooks). `target` is "module:Class"."""
        if ":" not in target:
            raise ValueError(f"{target!r} is not of the form 'module:Class'")
        self._entries[name] = target

    # -- lookup ------------------------------------------------------------------------------
    def unknown(self, name: str, flag: str | None = None) -> UnknownTypeError:
        """The error for an unknown `name`: lists the known names and the closest one."""
        names = self.names()
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        where = f"{flag}={name}" if flag else f"{self.kind} type {name!r}"
        return UnknownTypeError(f"unknown {self.kind} type {name!r} ({where}){hint} Known: {', '.join(names)}")

    def get(self, name: str, flag: str | None = None) -> Any:
        """The class registered as `name`, imported now.

        Raises UnknownTypeError (with the closest name) for an unknown name, and
        MissingDependencyError naming the pip extra when the class's module needs a package
        that is not installed.
        """
        entries = self.entries()
        if name not in entries:
            raise self.unknown(name, flag)
        module_name, _, attr = entries[name].partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            missing = e.name or "?"
            if missing == module_name or module_name.startswith(missing + "."):
                raise  # the registered module itself is missing: a broken entry, not a missing extra
            extra = self._extras.get(name)
            install = f"pip install 'robotlearn[{extra}]'" if extra else f"pip install {missing}"
            raise MissingDependencyError(
                f"{self.kind} type {name!r} needs the package {missing!r}, which is not installed: {install}"
            ) from e
        try:
            obj = module
            for part in attr.split("."):
                obj = getattr(obj, part)
        except AttributeError:
            raise ImportError(f"{self.kind} registry entry {name!r}: {module_name} has no attribute {attr!r}") from None
        return obj

    def config_class(self, name: str, flag: str | None = None) -> type:
        """The config dataclass of entry `name`: its class's `config_class` attribute."""
        cls = self.get(name, flag)
        config_cls = getattr(cls, "config_class", None)
        if config_cls is None:
            raise TypeError(f"{self.kind} {name!r} ({cls.__qualname__}) has no `config_class` attribute")
        return config_cls

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()})"
