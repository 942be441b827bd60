"""The subcommands' registry, in a module of its own: each command module imports it and registers."""

from ..registry import Registry

COMMANDS: Registry = Registry("command")
