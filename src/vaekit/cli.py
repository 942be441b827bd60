"""The ``vaekit`` command line. User errors print one line and exit with 2, without a traceback.

Each subcommand lives in ``vaekit/commands/`` and registers itself with ``COMMANDS``.
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import platform
import sys

from .commands._shared import CommandLineError, OneLineParser
from .commands.registry import COMMANDS, description_of
from .errors import UserError

EXIT_USER_ERROR = 2
# glibc's malloc hands blocks above a threshold back to the operating system when they are freed, so
# every pass of evaluation's MEMORY_BUDGET elements (and every training step's activations) faulted its
# buffers in again: page faults cost about a third of the evaluation's time (BENCHMARKS.md, "Memory").
# Blocks up to 32 MiB are kept in the heap, and the heap keeps up to 256 MiB of freed memory.
MMAP_THRESHOLD, TRIM_THRESHOLD = 32 * 2**20, 256 * 2**20
ORDER = ["train", "eval", "report", "score", "sample", "reconstruct", "encode", "denoise", "interpolate", "traverse", "latent-map"]  # the workflow's order in --help; others follow by name


def build_parser() -> argparse.ArgumentParser:
    """The parser of 'vaekit' and its subcommands (``OneLineParser``: one-line errors, every default in --help)."""
    parser = OneLineParser(prog="vaekit", description="Variational autoencoders: train, evaluate, use the latent space.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    names = [n for n in ORDER if n in COMMANDS] + [n for n in COMMANDS.names() if n not in ORDER]
    for name in names:
        command = COMMANDS.get(name)
        p = sub.add_parser(name, help=command.help, description=description_of(command))
        command.arguments(p)
        p.set_defaults(handler=command.run)
    return parser


def _version() -> str:
    from ._version import __version__

    return f"vaekit {__version__}"


def _show_library_messages() -> None:
    """The library reports choices (e.g. the streaming path) through the 'vaekit' logger."""
    logger = logging.getLogger("vaekit")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("vaekit: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def keep_freed_memory() -> None:
    """Raise glibc's mmap and trim thresholds for this process, so freed tensor buffers are reused
    instead of returned to the OS and faulted in again on the next pass. Process-wide, like any
    allocator setting, so the command line sets it at start-up (the library never does; a script that
    evaluates or trains in a loop may call this itself); a no-op on other C libraries."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, MMAP_THRESHOLD)  # M_MMAP_THRESHOLD (also stops glibc's dynamic threshold)
        libc.mallopt(-1, TRIM_THRESHOLD)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except CommandLineError as exc:
        print(f"{exc.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    args.argv = list(sys.argv[1:] if argv is None else argv)  # as given, for a command that relaunches itself
    _show_library_messages()
    keep_freed_memory()
    try:
        return args.handler(args) or 0
    except UserError as exc:
        print(f"vaekit {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except OSError as exc:  # a file that could not be read or written midway (disk full, removed, ...)
        if exc.filename is None:
            raise
        print(f"vaekit {args.command}: error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print(f"vaekit {args.command}: interrupted; a run that saved its first checkpoint "
              "continues with --resume RUN_DIR (one that had not was removed)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
