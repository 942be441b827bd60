"""Helpers of the commands that read a run folder (a private module: not a command)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..rundir import RunDir


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
    """--seed, an int (default 0): the seed of ``what`` (e.g. 'the noise')."""
    parser.add_argument("--seed", type=int, default=0, help=f"seed of {what} (default 0)")


def out_option(parser, default_file: str, kind: str = "PNG file", beside: str = "; the .npz goes beside it") -> None:
    """--out (default None: RUN_DIR/``default_file``), the ``kind`` of file written; ``beside`` ends the help
    with what is written next to it."""
    parser.add_argument("--out", default=None, help=f"{kind} (default RUN_DIR/{default_file}){beside}")


def batch_size_option(parser, default: int, unit: str) -> None:
    """--batch-size, an int: ``unit`` (e.g. 'examples per encoder pass') with its ``default``."""
    parser.add_argument("--batch-size", type=int, default=default, help=f"{unit} (default {default})")


def importance_samples_option(parser, use: str) -> None:
    """--k, an int (default 0): importance samples, for ``use``."""
    parser.add_argument("--k", type=int, default=0, help=f"importance samples {use}")


def inputs_count_option(parser, default: int) -> None:
    """--n, an int: how many inputs, the first of the evaluation split."""
    parser.add_argument("--n", type=int, default=default, help=f"number of inputs, the first of the evaluation split (default {default})")


def open_run_of(args):
    """The run's best model and evaluation split (see ``vaekit.runs.open.open_run``)."""
    from ..runs.open import open_run

    return open_run(args.run_dir, args.device, args.data)


def example_at(evaluated, index: int, flag: str):
    """The model input (*shape), on the CPU, of example ``index`` of the evaluation split; a UserError
    naming ``flag`` when there is no such example."""
    from ..errors import UserError

    n = len(evaluated.data)
    if not 0 <= index < n:
        raise UserError(f"{flag} {index}: the evaluation split ({evaluated.data.name}, {evaluated.split}) has examples 0 to {n - 1}")
    return evaluated.data.inputs(slice(index, index + 1))[0].cpu()


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
