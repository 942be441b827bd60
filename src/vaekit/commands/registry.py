"""The subcommands' registry, in a module of its own: each command module imports it and registers.

A command is a class with ``help`` (its line in 'vaekit --help'), ``arguments(parser)`` (adds its options)
and ``run(args)`` (the exit status); ``description``, the paragraph of its own --help, is optional."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..registry import Registry

COMMANDS: Registry = Registry("command")


@runtime_checkable
class Described(Protocol):
    """A command with a paragraph of its own for 'vaekit COMMAND --help' (else its ``help`` line serves)."""

    description: str


def description_of(command) -> str:
    """The text of 'vaekit COMMAND --help' above the options: the command's description, or its help line."""
    return command.description if isinstance(command, Described) else command.help
