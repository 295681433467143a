"""Command-line entry points (`robotlearn <command>`)."""
