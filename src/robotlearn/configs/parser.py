"""Turn nested dataclasses into dotted command-line flags, CleanRL style.

A config is a dataclass whose fields have defaults; a field may itself be a dataclass, which gives
dotted flags (`--dataset.root=DIR`). Each field's help text is `field(metadata={"help": "..."})`.

    @dataclass
    class DatasetArgs:
        root: str = field(default="data", metadata={"help": "Where the dataset lives."})

    @dataclass
    class RecordArgs:
        dataset: DatasetArgs = field(default_factory=DatasetArgs)
        resume: bool = field(default=False, metadata={"help": "Append to an existing dataset."})

    args = parse_config(RecordArgs, ["--dataset.root=/tmp/x", "--resume"], prog="robotlearn record")

Accepted forms: `--a.b=value`, `--a.b value`, and a bare `--flag` for booleans (= true).
Values are parsed by the field's annotation: bool, int, float, str, Optional[...], and list/tuple
of those (comma-separated or a JSON list). Unknown flags raise ConfigError naming the closest match.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import sys
import types
import typing
from typing import Any


class ConfigError(ValueError):
    """A command-line flag is unknown or its value cannot be parsed."""


def _fields(cls) -> dict[str, dataclasses.Field]:
    hints = typing.get_type_hints(cls)
    out = {}
    for f in dataclasses.fields(cls):
        f.type = hints.get(f.name, f.type)
        out[f.name] = f
    return out


def _flatten(cls, prefix: str = "") -> dict[str, dataclasses.Field]:
    """All leaf fields of a (nested) dataclass, keyed by their dotted path."""
    flat = {}
    for name, f in _fields(cls).items():
        path = f"{prefix}{name}"
        if dataclasses.is_dataclass(f.type):
            flat.update(_flatten(f.type, path + "."))
        else:
            flat[path] = f
    return flat


def _unwrap_optional(tp):
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return tp, False


def _parse_value(tp, text: str, flag: str):
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
            (item_tp, *_) = typing.get_args(tp) or (str,)
            items = json.loads(text) if text.strip().startswith("[") else [t for t in text.split(",") if t != ""]
            values = [_parse_value(item_tp, str(i), flag) for i in items]
            return tuple(values) if origin is tuple else values
        if origin is dict or tp is dict:
            return json.loads(text)
    except (ValueError, json.JSONDecodeError) as e:
        raise ConfigError(f"--{flag}: cannot parse {text!r} as {getattr(tp, '__name__', tp)}: {e}") from None
    raise ConfigError(f"--{flag}: unsupported field type {tp}")


def format_help(cls, prog: str, description: str = "") -> str:
    """The `--help` text: every flag, its type, default and help string."""
    lines = [f"usage: {prog} [--flag=value ...]", ""]
    if description:
        lines += [description.strip(), ""]
    lines.append("flags:")
    defaults = config_to_dict(cls()) if _all_defaults(cls) else {}
    for path, f in _flatten(cls).items():
        tp, _ = _unwrap_optional(f.type)
        tname = getattr(tp, "__name__", str(tp).replace("typing.", ""))
        default = _lookup(defaults, path)
        help_text = f.metadata.get("help", "")
        lines.append(f"  --{path}={tname.upper() if tp is not bool else '[true|false]'}")
        detail = help_text + (f" (default: {json.dumps(default)})" if default is not _MISSING else "")
        if detail:
            lines.append(f"      {detail}")
    return "\n".join(lines)


_MISSING = object()


def _lookup(d: dict, path: str):
    for part in path.split("."):
        if not isinstance(d, dict) or part not in d:
            return _MISSING
        d = d[part]
    return d


def _all_defaults(cls) -> bool:
    try:
        cls()
        return True
    except TypeError:
        return False


def parse_config(cls, argv: list[str] | None = None, prog: str = "robotlearn", description: str = ""):
    """Build `cls` from its defaults overridden by `argv` flags. Prints help and exits on --help."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "-h" in argv or "--help" in argv:
        print(format_help(cls, prog, description))
        raise SystemExit(0)
    flat = _flatten(cls)
    values: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("--"):
            raise ConfigError(f"unexpected argument {arg!r}: flags look like --name=value (see {prog} --help)")
        key, eq, text = arg[2:].partition("=")
        key = key.replace("-", "_") if key.replace("-", "_") in flat else key
        if key not in flat:
            close = difflib.get_close_matches(key, list(flat), n=1)
            hint = f"; did you mean --{close[0]}?" if close else ""
            raise ConfigError(f"unknown flag --{key}{hint} (see {prog} --help)")
        field_tp, _ = _unwrap_optional(flat[key].type)
        if not eq:
            if field_tp is bool and (i + 1 >= len(argv) or argv[i + 1].startswith("--")):
                text = "true"
            elif i + 1 < len(argv):
                i += 1
                text = argv[i]
            else:
                raise ConfigError(f"--{key} needs a value")
        values[key] = _parse_value(flat[key].type, text, key)
        i += 1
    return _build(cls, values, "")


def _build(cls, values: dict[str, Any], prefix: str):
    kwargs = {}
    for name, f in _fields(cls).items():
        path = f"{prefix}{name}"
        if dataclasses.is_dataclass(f.type):
            kwargs[name] = _build(f.type, values, path + ".")
        elif path in values:
            kwargs[name] = values[path]
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ConfigError(f"{prefix or 'config'}: {e}") from None


def config_to_dict(cfg) -> dict:
    """A JSON-serializable dict of a (nested) dataclass config."""
    return json.loads(json.dumps(dataclasses.asdict(cfg), default=str))
