"""Helpers of the commands that read a run folder (a private module: not a command)."""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
from pathlib import Path

import numpy as np

from ..config.ranges import COUNT, IMPORTANCE_SAMPLES, SEED, Range
from ..errors import UserError
from ..rundir import RunDir


class DefaultsFormatter(argparse.HelpFormatter):
    """Every option's help ends with its default, read from the option itself (so it cannot drift from the
    value used): ' (default 0)' is added unless the text already says its default in words (the help of an
    option whose default is computed, e.g. 'default RUN_DIR/samples.png'). No default is shown for None,
    False (a switch) or an empty list."""

    def _get_help_string(self, action) -> str:
        text = action.help or ""
        if "(default" in text or "%(default)" in text or not shows_default(action.default):
            return text
        return f"{text} (default {shown_default(action.default)})"


class DescribedDefaultsFormatter(argparse.RawDescriptionHelpFormatter, DefaultsFormatter):
    """DefaultsFormatter for a command whose description and epilog are laid out by hand (kept as written)."""


def shows_default(default) -> bool:
    """Whether a default is a value worth printing (not None, a switch's False, [] or argparse's SUPPRESS)."""
    return default is not None and default is not False and default != [] and default != argparse.SUPPRESS


def shown_default(default) -> str:
    """A default as the help shows it: numbers short (0.001, 3), other values as text."""
    return f"{default:g}" if isinstance(default, float) else str(default)


class CommandLineError(UserError):
    """A malformed command line, refused by the parser of ``prog`` ('vaekit sample')."""

    def __init__(self, message: str, prog: str):
        super().__init__(message)
        self.prog = prog


class OneLineParser(argparse.ArgumentParser):
    """The command line's parser: a malformed command line is a ``CommandLineError``, which the command line
    prints as ONE line ('vaekit sample: error: argument --n: must be an integer at least 1, got '0''; exit 2)
    like every other user error (argparse's own error prints the usage above it and exits); help pages show
    every default."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", DefaultsFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        raise CommandLineError(f"{message}; see '{self.prog} --help'", self.prog)


class Number:
    """An argparse type: the text parsed as a number of ``allowed`` (a ``Range``); anything else is refused
    with the range in words. Its name (in argparse's messages) is the range's description."""

    def __init__(self, allowed: Range):
        self.allowed = allowed
        self.__name__ = allowed.describe()

    def __call__(self, text: str) -> int | float:
        try:
            return self.allowed.parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    def __repr__(self) -> str:
        return f"Number({self.allowed!r})"


def number_option(parser, *flags: str, allowed: Range, default, help: str, **more) -> None:
    """A numeric option: its text is parsed and checked against ``allowed`` before the command starts (exit 2,
    one line naming the flag, the value and the range); the help ends with the default."""
    parser.add_argument(*flags, type=Number(allowed), default=default, help=help, **more)


def listed(registry, default: str | None = None) -> str:
    """The registry's names for a help text, 'a, b (default), c': built from the registry, so a newly
    registered part shows up in --help without anyone editing the text."""
    return ", ".join(f"{name} (default)" if name == default else name for name in registry.names())


RUN_DATA_HELP = ("data to use instead of the run's own (same shape): its test split, or every example when it has none; "
                 "default: the run's test split (its validation split when the data have no test split)")


def run_dir_arguments(parser, data_help: str | None = RUN_DATA_HELP) -> None:
    """RUN_DIR, --data and --device: what every command on a trained run takes (no --data when
    ``data_help`` is None: the command reads only the run's own data)."""
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by 'vaekit train'")
    if data_help is not None:
        parser.add_argument("--data", help=data_help)
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")


# The options several commands share: one builder each, so that name, type, default and the wording of the
# help stay the same everywhere; the caller says only what is its own (what the seed seeds, the file written).

def seed_option(parser, what: str) -> None:
    """--seed, an int from 0 to 2**32 - 1 (default 0): the seed of ``what`` (e.g. 'the noise')."""
    number_option(parser, "--seed", allowed=SEED, default=0, help=f"seed of {what}, from 0 to {SEED.high}")


def out_option(parser, default_file: str, kind: str = "PNG file", beside: str = "; the .npz goes beside it") -> None:
    """--out (default None: RUN_DIR/``default_file``), the ``kind`` of file written; ``beside`` ends the help
    with what is written next to it."""
    parser.add_argument("--out", default=None, help=f"{kind} (default RUN_DIR/{default_file}){beside}")


def batch_size_option(parser, default: int, unit: str) -> None:
    """--batch-size, an int of at least 1: ``unit`` (e.g. 'examples per encoder pass') with its ``default``."""
    number_option(parser, "--batch-size", allowed=COUNT, default=default, help=unit)


def importance_samples_option(parser, use: str) -> None:
    """--k, an int from 0 to IMPORTANCE_SAMPLES_MAX (default 0): importance samples, for ``use``."""
    number_option(parser, "--k", allowed=IMPORTANCE_SAMPLES, default=0,
                  help=f"importance samples {use}, at most {IMPORTANCE_SAMPLES.high}")


def inputs_count_option(parser, default: int) -> None:
    """--n, an int of at least 1: how many inputs, the first of the evaluation split (``inputs_count``
    checks it against the split's size once the data are known)."""
    number_option(parser, "--n", allowed=COUNT, default=default,
                  help="number of inputs, the first of the evaluation split")


def open_run_of(args):
    """The run's best model and evaluation split (see ``vaekit.runs.open.open_run``)."""
    from ..runs.open import open_run

    return open_run(args.run_dir, args.device, args.data)


def example_at(evaluated, index: int, flag: str):
    """The model input (*shape), on the CPU, of example ``index`` of the evaluation split; a UserError
    naming ``flag`` when there is no such example."""
    n = len(evaluated.data)
    if not 0 <= index < n:
        raise UserError(f"{flag} {index}: the evaluation split ({evaluated.data.name}, {evaluated.split}) has examples 0 to {n - 1}")
    return evaluated.data.inputs(slice(index, index + 1))[0].cpu()


def inputs_count(evaluated, n: int, flag: str = "--n") -> int:
    """``n``, the number of inputs asked for, once the evaluation split is known: a UserError naming ``flag``
    when the split holds fewer examples (never fewer outputs than asked, silently)."""
    size = len(evaluated.data)
    if n > size:
        raise UserError(f"{flag} {n}: the evaluation split ({evaluated.data.name}, {evaluated.split}) has {size} "
                        f"examples; ask for at most {size}")
    return n


BYTES_PER_NUMBER = 4  # float32, as the arrays are written
COPIES_IN_MEMORY = 2  # the result, and its copy while the .npz is written


def check_room(flag: str, count: int, numbers_each: int, out: Path) -> None:
    """Refuse, before any work, an output of ``count`` items of ``numbers_each`` float32 numbers that cannot fit
    in the memory available or on the disk of ``out``: a UserError naming ``flag`` with the size."""
    size = count * numbers_each * BYTES_PER_NUMBER
    memory, disk = available_memory(), free_disk(out)
    if size * COPIES_IN_MEMORY > memory:
        raise UserError(f"{flag}: the result ({count} x {numbers_each} float32 numbers) would take {in_units(size)}, "
                        f"twice that while written, and {in_units(memory)} of memory is available; ask for fewer")
    if size > disk:
        raise UserError(f"{flag}: the result ({count} x {numbers_each} float32 numbers) would take {in_units(size)} on "
                        f"disk and {out.parent} has {in_units(disk)} free; ask for fewer or write elsewhere with --out")


def available_memory() -> int:
    """Bytes of memory this process could still take: Linux's MemAvailable (free plus reclaimable caches),
    else the free pages; unbounded where neither is known."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return sys.maxsize


def free_disk(out: Path) -> int:
    """Free bytes on the file system where ``out`` will be written (its nearest existing folder)."""
    folder = Path(out).absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return sys.maxsize


def in_units(size: float) -> str:
    """A size in bytes as people read it: '2.4 GB', '512 B' (decimal units, as disks are sold)."""
    if size < 1000:
        return f"{size:.0f} B"
    for unit in ("kB", "MB", "GB", "TB"):
        size /= 1000
        if size < 1000 or unit == "TB":
            return f"{size:.1f} {unit}"


def numbers_per_example(shape) -> int:
    """The numbers in one example of ``shape`` (C, H, W) or (F,)."""
    return math.prod(shape)


def write_outputs(run_dir: str, x, out: Path, picture, arrays: dict | None = None) -> None:
    """``picture(path)`` draws the PNG; ``arrays`` go to the .npz beside it (``write_arrays``);
    table rows are also written as CSV in the data's units."""
    from ..runs.open import load_units
    from ._tables import write_rows

    units = load_units(run_dir)
    if out.suffix.lower() != ".csv":
        picture(out)
        print(f"written: {out}")
    if arrays is not None:
        write_arrays(out.with_suffix(".npz"), arrays)
    if units.columns is not None:
        table = out.with_suffix(".csv")
        write_rows(table, units(x.cpu()), units.columns)
        print(f"written: {table} (rows in the data's original units)")


def write_arrays(path: Path, arrays: dict) -> Path:
    """Save ``arrays`` to one .npz (``vaekit.figures.latent_outputs.save_arrays``) and print its path and shapes."""
    from ..figures.latent_outputs import save_arrays

    return announce(save_arrays(path, arrays))


def announce(path: Path) -> Path:
    """Print 'written: PATH', with the arrays' shapes for an .npz."""
    if Path(path).suffix == ".npz":
        with np.load(path) as stored:
            shapes = ", ".join(f"{name} {stored[name].shape}" for name in stored.files)
        print(f"written: {path} ({shapes})")
    else:
        print(f"written: {path}")
    return Path(path)


def output_paths(run_dir: str, out: str | None, default: str) -> tuple[Path, Path]:
    """(PNG, NPZ): --out (or RUN_DIR/default) and the .npz beside it with the same stem."""
    png = RunDir(run_dir).output(out, default)
    return png, png.with_suffix(".npz")


def check_writable(run_dir: str, out: str | None, default: str, also: tuple[str, ...] = (),
                   folders: tuple[str, ...] = ()) -> Path:
    """Before any work: RUN_DIR is a run folder and every file the command writes can be written there; a
    one-line UserError naming the path and the reason otherwise (``vaekit.files.check_destination``: a
    folder where a file goes, a path below a file, a read-only folder). ``out`` (--out, or RUN_DIR/``default``
    when None) is the command's file, the .npz and .csv beside it go in its folder; ``also``: other files and
    ``folders``: folders the command writes in RUN_DIR. Returns the output path."""
    from ..files import check_destination

    run = RunDir.check(run_dir)
    for name in also:
        check_destination(run.file(name))
    for name in folders:
        check_destination(run.file(name), folder=True)
    return check_destination(run.output(out, default))
