"""vaekit eval: the numbers of a trained run on its test split (likelihood, latent diagnostics, linear
probe; see ``vaekit.runs.evaluate.evaluate_run``), to RUN_DIR/eval.json and a table."""

from __future__ import annotations

from pathlib import Path

from .common import open_run_of, run_dir_arguments
from .registry import COMMANDS


@COMMANDS.register("eval")
class Evaluate:
    help = "evaluate a trained run on its test split and write RUN_DIR/eval.json"

    @staticmethod
    def arguments(p) -> None:
        run_dir_arguments(p)
        p.add_argument("--k", type=int, default=0, help="importance samples for log p(x) (0: ELBO only; 5000 for papers)")
        p.add_argument("--seed", type=int, default=0, help="seed of the evaluation's samples")
        p.add_argument("--examples", type=int, default=None, metavar="N",
                       help="score only the first N examples of the split (default: all; eval.json records N)")

    @staticmethod
    def run(args) -> int:
        from ..io import atomic_write_json
        from ..runs.evaluate import evaluate_run
        from ..runs.prepared import resolve_device
        from ..training import distributed

        try:  # under torchrun: every process scores a share of the batches, rank 0 writes
            args.device = str(distributed.join(resolve_device(args.device)))
            opened = open_run_of(args)
            results = evaluate_run(opened, k=args.k, seed=args.seed, examples=args.examples,
                                   sharded=distributed.joined())
            first = distributed.is_first()
        finally:
            distributed.leave()
        if first:
            atomic_write_json(Path(args.run_dir) / "eval.json", results)
            print_table(results)
            print(f"written: {Path(args.run_dir) / 'eval.json'}")
        return 0


def print_table(results: dict) -> None:
    """One line per result, the registered metrics first (``vaekit.evaluation.metrics``), each value as
    ``format_value`` shows it (floats to 4 decimals, lists as a short summary)."""
    from ..evaluation.metrics import formatted_results

    width = max(map(len, results))
    for key, value in formatted_results(results):
        print(f"{key:<{width}}  {value}")
