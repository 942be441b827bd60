"""vaekit eval: the numbers of a trained run on its test split, to RUN_DIR/eval.json and a table."""

from __future__ import annotations

from pathlib import Path

from . import COMMANDS
from .common import open_run_of, run_dir_arguments


@COMMANDS.register("eval")
class Evaluate:
    help = "evaluate a trained run on its test split and write RUN_DIR/eval.json"

    @staticmethod
    def arguments(p) -> None:
        run_dir_arguments(p)
        p.add_argument("--k", type=int, default=0, help="importance samples for log p(x) (0: ELBO only; 5000 for papers)")
        p.add_argument("--seed", type=int, default=0, help="seed of the evaluation's samples")

    @staticmethod
    def run(args) -> int:
        from ..evaluate import evaluate
        from ..io import atomic_write_json

        opened = open_run_of(args)
        results = evaluate(opened.model, opened.data, k=args.k, seed=args.seed)
        results.update(opened.describe())
        atomic_write_json(Path(args.run_dir) / "eval.json", results)
        print_table(results)
        print(f"written: {Path(args.run_dir) / 'eval.json'}")
        return 0


def print_table(results: dict) -> None:
    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value:.4f}" if isinstance(value, float) else f"{key:<{width}}  {value}")
