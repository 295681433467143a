"""Turn nested dataclasses into dotted command-line flags, CleanRL style.

A config is a dataclass whose fields have defaults and a one-line docstring, which becomes the
flag's `--help` text. A field may itself be a dataclass, which gives dotted flags:

    @dataclass
    class DatasetConfig:
        root: str = "data"
        '''Where the dataset lives.'''

    @dataclass
    class RecordConfig:
        dataset: DatasetConfig = field(default_factory=DatasetConfig)
        resume: bool = False
        '''Append to an existing dataset.'''

    cfg = parse_config(RecordConfig, ["--dataset.root=/tmp/x", "--resume"], prog="robotlearn record")

Choice fields: a dataclass field whose class has `__registry__ = "module:REGISTRY"` (RobotConfig,
CameraConfig, PolicyConfig, EnvConfig, ...) is selected by `--<field>.type=NAME`: the parser looks
NAME up in that registry, builds NAME's config class and shows its fields in `--help`.

Accepted forms: `--a.b=value`, `--a.b value`, and a bare `--flag` for booleans (= true). Values
are parsed by the field's annotation: bool, int, float, str, Optional[...], list/tuple of those
(comma-separated or a JSON list), dict (JSON; a dict of choice configs builds each by its "type").
Unknown flags raise ConfigError naming the closest match; flags listed in the config class's
`__removed_flags__ = {"old": "what replaces it"}` answer with their replacement. `defaults=` (a
dict, e.g. a saved config.json) replaces the dataclass defaults, and the flags apply on top.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import difflib
import functools
import importlib
import inspect
import json
import sys
import textwrap
import types
import typing
from typing import Any

from robotlearn.errors import ConfigError

# -- reading dataclasses ---------------------------------------------------------------------------


def _fields(cls) -> dict[str, dataclasses.Field]:
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        f.type = hints.get(f.name, f.type)
        out[f.name] = f
    return out


@functools.cache
def _docstrings(cls) -> dict[str, str]:
    """Field name -> the string literal right after its definition (attribute docstrings), over the MRO."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        body = ast.parse(source).body[0].body
        for node, nxt in zip(body, body[1:]):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(nxt, ast.Expr)
                and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)
            ):
                docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def field_help(cls, f: dataclasses.Field) -> str:
    """A field's help text: its docstring, else `metadata["help"]`."""
    return _docstrings(cls).get(f.name) or f.metadata.get("help", "")


def _unwrap_optional(tp):
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def registry_of(tp):
    """The Registry behind a choice config class (`__registry__ = "module:NAME"`), else None."""
    tp, _ = _unwrap_optional(tp)
    target = getattr(tp, "__registry__", None) if isinstance(tp, type) else None
    if not target:
        return None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _is_config(tp) -> bool:
    tp, _ = _unwrap_optional(tp)
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _default_of(f: dataclasses.Field):
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return _MISSING


_MISSING = object()


# -- values ----------------------------------------------------------------------------------------


def _parse_text(tp, text: str, flag: str):
    """A flag's text -> a value of annotation `tp` (JSON-like for containers)."""
    tp, optional = _unwrap_optional(tp)
    if optional and text.lower() in ("none", "null", ""):
        return None
    origin = typing.get_origin(tp)
    try:
        if tp is bool:
            low = text.lower()
            if low in ("1", "true", "yes", "y", "on"):
                return True
            if low in ("0", "false", "no", "n", "off"):
                return False
            raise ValueError(f"expected true/false, got {text!r}")
        if tp is int:
            return int(text)
        if tp is float:
            return float(text)
        if tp is str or tp is Any:
            return text
        if origin in (list, tuple):
            if text.strip().startswith("["):
                return json.loads(text)
            return [t for t in text.split(",") if t != ""]
        if origin is dict or tp is dict or _is_config(tp):
            value = json.loads(text)
            if not isinstance(value, dict):
                raise ValueError("expected a JSON object {...}")
            return value
    except (ValueError, json.JSONDecodeError) as e:
        raise ConfigError(f"--{flag}: cannot parse {text!r} as {_type_name(tp)}: {e}") from None
    raise ConfigError(f"--{flag}: unsupported field type {tp}")


def _coerce(tp, value, where: str):
    """A JSON-like value (from a flag or a saved config) -> a value of annotation `tp`."""
    tp, optional = _unwrap_optional(tp)
    if value is None:
        if optional or tp is Any:
            return None
        raise ConfigError(f"{where}: None is not allowed (expected {_type_name(tp)})")
    origin = typing.get_origin(tp)
    if _is_config(tp):
        return config_from_dict(tp, value, where)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        args = [a for a in typing.get_args(tp) if a is not Ellipsis] or [Any]
        items = [_coerce(args[0], v, where) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a JSON object, got {value!r}")
        args = typing.get_args(tp)
        if len(args) == 2 and _is_config(args[1]):
            return {k: _coerce(args[1], v, f"{where}.{k}") for k, v in value.items()}
        return value
    if tp is bool and not isinstance(value, bool):
        return _parse_text(bool, str(value), where.lstrip("-"))
    if tp in (int, float) and isinstance(value, str):
        return _parse_text(tp, value, where.lstrip("-"))
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp in (int, float, str) and not isinstance(value, tp):
        raise ConfigError(f"{where}: expected {_type_name(tp)}, got {value!r}")
    return value


def _type_name(tp) -> str:
    return getattr(tp, "__name__", str(tp).replace("typing.", ""))


def _choose(tp, data: dict | None, default, where: str):
    """The concrete config class of a field of config class `tp`, given its data's "type"."""
    tp, _ = _unwrap_optional(tp)
    registry = registry_of(tp)
    name = (data or {}).get("type") if isinstance(data, dict) else None
    if registry is None or not name:
        return type(default) if dataclasses.is_dataclass(default) and not isinstance(default, type) else tp
    if name not in registry:
        raise registry.unknown(name, f"--{where}.type")
    return registry.config_class(name, f"--{where}.type")


def config_from_dict(cls, data: dict, where: str = "config", default=None):
    """Builds config dataclass `cls` (or, for a choice class, the registered class its "type" names)
    from a JSON-like dict; missing fields keep their defaults, unknown ones raise ConfigError."""
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return data
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a JSON object with the fields of {cls.__name__}, got {data!r}")
    cls = _choose(cls, data, default, where)
    fields = _fields(cls)
    unknown = [k for k in data if k not in fields]
    if unknown:
        key = unknown[0]
        close = difflib.get_close_matches(key, list(fields), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"{where}.{key} is not an option of {_describe(cls)}{hint} (its options: {', '.join(fields)})"
        )
    kwargs = {}
    for name, value in data.items():
        f = fields[name]
        sub_default = _default_of(f) if _is_config(f.type) else None
        if _is_config(f.type) and isinstance(value, dict):
            kwargs[name] = config_from_dict(_unwrap_optional(f.type)[0], value, f"{where}.{name}", sub_default)
        else:
            kwargs[name] = _coerce(f.type, value, f"{where}.{name}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        if isinstance(e, ConfigError):
            raise
        raise ConfigError(f"{where}: {e}") from None


def _describe(cls) -> str:
    type_field = _fields(cls).get("type")
    name = _default_of(type_field) if type_field is not None else None
    return f"{registry_of(cls).kind} type {name!r}" if registry_of(cls) is not None and name else cls.__name__


def config_to_dict(cfg) -> dict:
    """A JSON-serializable dict of a (nested) dataclass config."""
    return json.loads(json.dumps(dataclasses.asdict(cfg), default=str))


# -- flags -----------------------------------------------------------------------------------------


def _set(data: dict, path: str, value) -> None:
    *parents, leaf = path.split(".")
    for part in parents:
        node = data.get(part)
        if not isinstance(node, dict):
            node = data[part] = {}
        data = node
    data[leaf] = value


def _get(data: dict, path: str):
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return _MISSING
        data = data[part]
    return data


def _flatten(cls, data: dict, prefix: str = "", default=None) -> dict[str, tuple[type, dataclasses.Field]]:
    """dotted flag -> (owning class, field) for the config tree that `data` selects."""
    cls = _choose(cls, _get(data, prefix[:-1]) if prefix else data, default, prefix[:-1])
    flat = {}
    for name, f in _fields(cls).items():
        path = f"{prefix}{name}"
        if _is_config(f.type):
            flat.update(_flatten(_unwrap_optional(f.type)[0], data, path + ".", _default_of(f)))
        else:
            flat[path] = (cls, f)
    return flat


def flag_table(cls, data: dict | None = None) -> dict[str, tuple[type, dataclasses.Field]]:
    """Every flag of config class `cls` (for the types `data` selects, default: the defaults'):
    dotted path -> (the dataclass that owns the field, the field)."""
    return _flatten(cls, data or {})


def _split_argv(argv: list[str], prog: str) -> list[tuple[str, str | None, int]]:
    """argv -> [(key, text or None for a bare flag, index)]; values may be the next argument."""
    out = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("--"):
            raise ConfigError(f"unexpected argument {arg!r}: flags look like --name=value (see {prog} --help)")
        key, eq, text = arg[2:].partition("=")
        key = key.replace("-", "_")
        if eq:
            out.append((key, text, i))
        elif i + 1 < len(argv) and not argv[i + 1].startswith("--"):
            out.append((key, argv[i + 1], i))
            i += 1
        else:
            out.append((key, None, i))
        i += 1
    return out


def _check_removed(cls, key: str) -> None:
    removed = getattr(cls, "__removed_flags__", {})
    for old, replacement in removed.items():
        if key == old or key.startswith(old + "."):
            raise ConfigError(f"--{key} was removed: use {replacement}")


def parse_config(
    cls, argv: list[str] | None = None, prog: str = "robotlearn", description: str = "", defaults: dict | None = None
):
    """Build `cls` from its defaults (or `defaults`, e.g. a saved config dict) overridden by `argv`.

    Prints help and raises SystemExit(0) on --help/-h; raises ConfigError on a bad flag or value.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    want_help = "-h" in argv or "--help" in argv
    argv = [a for a in argv if a not in ("-h", "--help")]
    pairs = _split_argv(argv, prog)
    data: dict = copy.deepcopy(defaults) if defaults else {}
    # Choices first: `--robot.type=X` decides which flags exist.
    for key, text, _ in pairs:
        if key == "type" or key.endswith(".type"):
            _check_removed(cls, key)
            if text is None:
                raise ConfigError(f"--{key} needs a value")
            parent = key.rpartition(".")[0]
            node = _get(data, parent) if parent else data
            if parent and isinstance(node, dict) and node.get("type") not in (None, text):
                _set(data, parent, {})  # another type: the saved values of the old one do not apply
            _set(data, key, text)
    flat = _flatten(cls, data)
    if want_help:
        print(format_help(cls, prog, description, data))
        raise SystemExit(0)
    for key, text, _ in pairs:
        _check_removed(cls, key)
        if key not in flat:
            close = difflib.get_close_matches(key, list(flat), n=1)
            hint = f"; did you mean --{close[0]}?" if close else ""
            raise ConfigError(f"unknown flag --{key}{hint} (see {prog} --help)")
        owner, f = flat[key]
        if text is None:
            if _unwrap_optional(f.type)[0] is not bool:
                raise ConfigError(f"--{key} needs a value")
            text = "true"
        _set(data, key, _coerce(f.type, _parse_text(f.type, text, key), f"--{key}"))
    return config_from_dict(cls, data, where="-")


def format_help(cls, prog: str, description: str = "", data: dict | None = None) -> str:
    """The `--help` text: every flag (of the chosen types), its type, default and help string."""
    data = data or {}
    lines = [f"usage: {prog} [--flag=value ...]", ""]
    if description:
        lines += [description.strip(), ""]
    lines.append("flags:")
    try:
        defaults = config_to_dict(config_from_dict(cls, copy.deepcopy(data), where="-"))
    except ConfigError:
        defaults = {}
    for path, (owner, f) in _flatten(cls, data).items():
        tp, _ = _unwrap_optional(f.type)
        value = _get(defaults, path)
        help_text = field_help(owner, f)
        if f.name == "type" and registry_of(owner) is not None:
            registry = registry_of(owner)
            help_text = (
                f"{help_text} One of: {', '.join(registry.names())}. `--{path}=NAME --help` shows NAME's flags."
            ).strip()
        lines.append(f"  --{path}={'[true|false]' if tp is bool else _type_name(tp).upper()}")
        detail = help_text + (f" (default: {json.dumps(value)})" if value is not _MISSING else "")
        if detail:
            lines.append(f"      {detail}")
    return "\n".join(lines)


def _flag_text(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if value is None:
        return "none"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def config_to_flags(cfg, default=None, prefix: str = "") -> list[str]:
    """The flags that turn `default` (by default: `cfg`'s class with its defaults) into `cfg`:
    `parse_config(type(cfg), config_to_flags(cfg))` rebuilds `cfg`. Choice fields whose type differs
    from the default's start with `--<field>.type=NAME`."""
    if default is None or type(default) is not type(cfg):
        default = type(cfg)()
    flags = []
    for name in _fields(type(cfg)):
        value, base = getattr(cfg, name), getattr(default, name)
        path = f"{prefix}{name}"
        if name == "type" and prefix and registry_of(type(cfg)) is not None:
            continue  # a choice's type: its parent names it first (below)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            sub = config_to_flags(value, base if type(base) is type(value) else None, path + ".")
            if registry_of(type(value)) is not None and "type" in _fields(type(value)):
                # always name a choice's type: the command then reads the same whatever the defaults
                sub = [f"--{path}.type={value.type}", *sub]
            flags += sub
        elif value != base:
            flags.append(f"--{path}={_flag_text(_jsonable(value))}")
    return flags


def _jsonable(value):
    """A field value as JSON-compatible data (tuples -> lists, configs -> dicts, also inside dicts and lists)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    elif isinstance(value, dict):
        value = {k: _jsonable(v) for k, v in value.items()}
    elif isinstance(value, (list, tuple)):
        value = [_jsonable(v) for v in value]
    return json.loads(json.dumps(value, default=str))
