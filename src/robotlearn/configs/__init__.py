"""Configuration: plain dataclasses that become dotted command-line flags (see parser.py)."""

from robotlearn.configs.parser import (
    ConfigError,
    config_from_dict,
    config_to_dict,
    config_to_flags,
    field_help,
    flag_table,
    format_help,
    parse_config,
    registry_of,
)

__all__ = [
    "ConfigError",
    "config_from_dict",
    "config_to_flags",
    "config_to_dict",
    "field_help",
    "flag_table",
    "format_help",
    "parse_config",
    "registry_of",
]
