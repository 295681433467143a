"""Configuration helpers: plain dataclasses that become dotted command-line flags."""

from robotlearn.configs.parser import ConfigError, config_to_dict, parse_config

__all__ = ["ConfigError", "config_to_dict", "parse_config"]
