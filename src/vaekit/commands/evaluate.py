"""vaekit eval: the numbers of a trained run on its test split (likelihood, latent diagnostics, linear
probe; see ``vaekit.runs.evaluate.evaluate_run``), to RUN_DIR/eval.json and a table."""

from __future__ import annotations

from ..rundir import RunDir
from ..config.ranges import COUNT
from ._shared import importance_samples_option, number_option, run_dir_arguments, seed_option
from .registry import COMMANDS


@COMMANDS.register("eval")
class Evaluate:
    help = f"evaluate a trained run on its test split and write RUN_DIR/{RunDir.EVALUATION}"

    @staticmethod
    def arguments(p) -> None:
        run_dir_arguments(p)
        importance_samples_option(p, "for log p(x) (0: ELBO only; 5000 for papers)")
        seed_option(p, "the evaluation's samples")
        number_option(p, "--examples", allowed=COUNT, default=None, metavar="N",
                      help="score only the first N examples of the split (default: all; eval.json records N)")

    @staticmethod
    def run(args) -> int:
        from ..runs.evaluate import evaluate_run_dir

        results = evaluate_run_dir(args.run_dir, args.device, args.data, k=args.k, seed=args.seed,
                                   examples=args.examples)
        if results is not None:  # global rank 0 (every run on one process)
            print_table(results)
            print(f"written: {RunDir(args.run_dir).evaluation}")
        return 0


def print_table(results: dict) -> None:
    """One line per result, the registered metrics first (``vaekit.evaluation.metrics``), each value as
    ``format_value`` shows it (floats to 4 decimals, lists as a short summary)."""
    from ..evaluation.metrics import formatted_results

    width = max(map(len, results))
    for key, value in formatted_results(results):
        print(f"{key:<{width}}  {value}")
