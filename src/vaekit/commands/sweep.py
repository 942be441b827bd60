"""vaekit sweep: run a study (grids x random draws x seeds of runs) locally or on Ray; --summary prints its table."""

from __future__ import annotations

import sys

from ..errors import UserError
from ..studies.engines import ENGINES
from .registry import COMMANDS

EPILOG = """sweep file (YAML):
  base: {model: {latent_dim: 8}, train: {epochs: 5}}   # any run config, or a config file's path
  variants: {vae: {objective.name: elbo}, tc: {objective.name: beta_tcvae}}   # optional named settings
  grid: {objective.beta: [1, 4, 16]}                  # dotted keys to lists: the product is taken
  random: {count: 4, seed: 0, parameters: {train.lr: {loguniform: [1.0e-4, 1.0e-2]}}}
  seeds: [0, 1, 2]
  evaluate: {eval: {k: 100}, disentangle: fast}       # eval (k), disentangle (fast|default), ood (against)
OUT/runs/NAME is each point's run folder; OUT/results.csv, results.json and study.html the results.
Running the same sweep again skips finished points and resumes interrupted ones."""


@COMMANDS.register("sweep")
class Sweep:
    help = "run a study: grids x seeds of runs, on local processes or Ray, resumable"
    description = ("Train every point of a sweep file (an ordinary run folder each, under OUT/runs/), evaluate it\n"
                   "and write OUT/results.csv, results.json and study.html. Every point is validated before the\n"
                   "first run starts; a point that fails is recorded and the others go on (exit 1).")

    @staticmethod
    def arguments(p) -> None:
        from ..config.ranges import COUNT, GPU_SHARE
        from ._shared import DescribedDefaultsFormatter, number_option

        p.formatter_class = DescribedDefaultsFormatter
        p.epilog = EPILOG
        p.add_argument("sweep", nargs="?", metavar="SWEEP.yaml", help="the sweep file")
        p.add_argument("--out", help="the study folder (made if missing; an existing study is resumed)")
        number_option(p, "--workers", allowed=COUNT, default=1, metavar="N",
                      help="local: worker processes, each with cores/workers PyTorch threads (default 1: runs in "
                            "this process); ray: the CPUs of the local Ray instance it starts")
        p.add_argument("--engine", default="local", choices=ENGINES.names(),
                       help='local (default) or ray (pip install "vaekit[ray]")')
        p.add_argument("--address", help="ray: the cluster to join ('auto' or HOST:PORT); none starts a local instance")
        number_option(p, "--cpus-per-run", allowed=COUNT, default=1, metavar="C",
                      help="ray: CPUs each run's task declares (its threads)")
        number_option(p, "--gpus-per-run", allowed=GPU_SHARE, default=0.0, metavar="G",
                      help="ray: GPUs each run's task declares (a fraction shares one)")
        p.add_argument("--summary", metavar="OUT", help="print the results table of the study folder OUT and exit")

    @staticmethod
    def run(args) -> int:
        from ..studies import summary_table, sweep

        if args.summary:
            if args.sweep or args.out:
                raise UserError("--summary OUT prints a study's table; give no sweep file or --out with it")
            print(summary_table(args.summary))
            return 0
        if not args.sweep or not args.out:
            raise UserError("give a sweep file and --out OUT (or --summary OUT)")
        try:
            result = sweep(args.sweep, args.out, workers=args.workers, engine=args.engine, address=args.address,
                           cpus_per_run=args.cpus_per_run, gpus_per_run=args.gpus_per_run,
                           on_start=announce, on_record=show_record)
        except KeyboardInterrupt:  # every run stopped where it can resume
            print(f"vaekit sweep: interrupted; {args.out} keeps what finished: run the same command again to resume it",
                  file=sys.stderr)
            return 130
        return report(result)


def announce(to_run: list[str], skipped: list[str]) -> None:
    done = f"; {len(skipped)} already done" if skipped else ""
    print(f"{len(to_run)} runs to do{done}", flush=True)


def show_record(record: dict) -> None:
    if record["status"] == "done":
        print(f"done    {record['name']} ({record['wall_seconds']:.1f} s)", flush=True)
    else:
        print(f"failed  {record['name']}: {record['error']}", flush=True)


def report(result) -> int:
    """The study's files, and the failed points; exit 1 when any failed."""
    print(f"study folder: {result.folder}")
    for name in ("results.csv", "results.json", "study.html"):
        print(f"  {result.folder / name}")
    if result.failed:
        print(f"{len(result.failed)} of {len(result.rows)} runs failed:")
        for row in result.failed:
            print(f"  {row['name']}: {row['error']}")
        return 1
    return 0
