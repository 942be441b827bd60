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
        from ._shared import check_writable

        check_writable(args.run_dir, None, RunDir.EVALUATION)  # before any work

        results = evaluate_run_dir(args.run_dir, args.device, args.data, k=args.k, seed=args.seed,
                                   examples=args.examples)
        if results is not None:  # global rank 0 (every run on one process)
            print_table(results)
            print(f"written: {RunDir(args.run_dir).evaluation}{kept_note(RunDir(args.run_dir), results)}")
        return 0


def kept_note(run: RunDir, results: dict) -> str:
    """What the written line adds when eval.json's headline stays a tighter evaluation than this one."""
    from ..rundir import evaluation_setting

    headline = run.read_evaluation()
    if evaluation_setting(headline) == evaluation_setting(results):
        return ""
    return (f" (this evaluation under '{RunDir.EVALUATIONS}'; the headline stays the tighter one with K = "
            f"{headline.get('k')} on {headline.get('examples')} examples)")


def print_table(results: dict) -> None:
    """One line per result, the registered metrics first (``vaekit.evaluation.metrics``), each value as
    ``format_value`` shows it (floats to 4 decimals, lists as a short summary)."""
    from ..evaluation.metrics import formatted_results

    width = max(map(len, results))
    for key, value in formatted_results(results):
        print(f"{key:<{width}}  {value}")
