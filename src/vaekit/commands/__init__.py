"""Subcommands of the ``vaekit`` command line, one module each, registered by name.

A command is a class with ``help`` (one line), ``arguments(parser)`` and ``run(args) -> int``.
Modules whose names start with an underscore (``_shared``, ``_tables``) are helpers of the commands,
not commands; ``registry`` holds ``COMMANDS``.
"""

from .registry import COMMANDS

__all__ = ["COMMANDS"]


def _import_all() -> None:
    """Import every command module of this package: each registers its command, so a new command is one
    new file (helpers, named _NAME, are imported by the commands that use them)."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("_"):
            continue
        importlib.import_module(f"{__name__}.{module.name}")


_import_all()
