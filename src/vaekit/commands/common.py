"""Pieces shared by the commands that read a run folder."""

from __future__ import annotations

from pathlib import Path


def run_dir_arguments(parser) -> None:
    """RUN_DIR, --data and --device: what every command on a trained run takes."""
    parser.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by 'vaekit train'")
    parser.add_argument("--data", help="data to use instead of the run's own (same shape); default: the run's test split")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")


def open_run_of(args):
    """The run's best model and evaluation split (see ``vaekit.run.open_run``)."""
    from ..run import open_run

    return open_run(args.run_dir, args.device, args.data)


def write_outputs(run_dir: str, x, out: Path, picture) -> None:
    """``picture(path)`` draws the PNG; table rows are also written as CSV in the data's units."""
    from ..run import load_units
    from ..tables_out import write_rows

    units = load_units(run_dir)
    if out.suffix.lower() != ".csv":
        picture(out)
        print(f"written: {out}")
    if units.columns is not None:
        table = out.with_suffix(".csv")
        write_rows(table, units(x.cpu()), units.columns)
        print(f"written: {table} (rows in the data's original units)")
