"""Subcommands of the ``vaekit`` command line, one module each, registered by name.

A command is a class with ``help`` (one line), ``arguments(parser)`` and ``run(args) -> int``.
"""

from ..registry import Registry

COMMANDS: Registry = Registry("command")

from . import evaluate, reconstruct, sample, train  # noqa: E402,F401  (each registers its command)
