"""vaekit eval: the numbers of a trained run on its test split (likelihood, latent diagnostics, linear
probe; see ``vaekit.runs.evaluate.evaluate_run``), to RUN_DIR/eval.json and a table."""

from __future__ import annotations

from ..rundir import RunDir
from ._shared import run_dir_arguments
from .registry import COMMANDS


@COMMANDS.register("eval")
class Evaluate:
    help = f"evaluate a trained run on its test split and write RUN_DIR/{RunDir.EVALUATION}"

    @staticmethod
    def arguments(p) -> None:
        run_dir_arguments(p)
        p.add_argument("--k", type=int, default=0, help="importance samples for log p(x) (0: ELBO only; 5000 for papers)")
        p.add_argument("--seed", type=int, default=0, help="seed of the evaluation's samples")
        p.add_argument("--examples", type=int, default=None, metavar="N",
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


SHOWN_VALUES = 8  # per-dimension lists longer than this are cut short in the table (eval.json has them all)


def print_table(results: dict) -> None:
    """One line per result: scalars as they are (floats to 4 decimals), lists as a short summary."""
    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {format_value(value)}")


def format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list) and value and isinstance(value[0], list):  # one list per part (a VQ-VAE's codebooks)
        return "; ".join(f"[{summarise(part)}]" for part in value)
    if isinstance(value, list):
        return summarise(value)
    return str(value)


def summarise(values: list[float]) -> str:
    """'D values, largest first: a b c ...' with at most SHOWN_VALUES of them."""
    ordered = sorted(values, reverse=True)
    shown = " ".join(f"{v:.3g}" for v in ordered[:SHOWN_VALUES])
    more = " ... (all in eval.json)" if len(values) > SHOWN_VALUES else ""
    return f"{len(values)} values, largest first: {shown}{more}"
