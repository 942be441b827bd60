"""Subcommands of the ``vaekit`` command line, one module each, registered by name.

A command is a class with ``help`` (one line), ``arguments(parser)`` and ``run(args) -> int``.
"""

from .registry import COMMANDS

__all__ = ["COMMANDS"]


def _import_all() -> None:
    """Import every module of this package: each registers its command, so a new command is one new file."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_import_all()
