"""vaekit score: one anomaly score per example (negative ELBO, and with --k the importance-sampled
negative log-likelihood) to a CSV file; the highest scores are the examples the model finds least likely."""

from __future__ import annotations

import csv
import io

from ..rundir import Figures, RunDir
from ._shared import importance_samples_option, open_run_of, out_option, run_dir_arguments, seed_option
from .registry import COMMANDS

SHOWN = 5  # highest-scoring indices printed


@COMMANDS.register("score")
class Score:
    help = f"score every example (negative ELBO, with --k NLL, an out-of-distribution score) -> RUN_DIR/{Figures.SCORES}"
    description = (
        "Score every example of the run's evaluation split, or with --data every example of that data's "
        "test split (all of it when it has none), in order. Rows: index (position in the scored data), "
        "label (when the data have labels), negative_elbo_nats (an autoencoder: negative_log_px_z_nats), "
        "with --k nll_nats, and METHOD_score, an out-of-distribution score (--method; see 'vaekit ood'). Higher is "
        "less likely: the top rows by METHOD_score are anomaly candidates."
    )

    @staticmethod
    def arguments(p) -> None:
        run_dir_arguments(p)
        importance_samples_option(p, "for the per-example NLL (0: negative ELBO only; --method uses 100 then)")
        p.add_argument("--method", default=None, help=(
            "the out-of-distribution score of the last column, which ranks the rows (a per-example method of "
            "'vaekit ood'); default: combined for a VAE of images, input_complexity for a VAE of other data, "
            "reconstruction for an autoencoder. The raw likelihood ranks simple outliers such as MNIST digits for a "
            "Fashion-MNIST model as more likely than the training data (AUROC 0.19 in REPRODUCTION.md's study); "
            "input_complexity (-log2 p(x) minus the PNG length in bits) corrects that but misses upside-down images; "
            "combined (Fisher's method over input_complexity, orientation and likelihood_regret) was the one score "
            "at 0.98 or more on every set there, at ten importance-sampled log p(x) and 100 encoder steps per image"))
        seed_option(p, "the scores' samples")
        out_option(p, Figures.SCORES, "CSV file", beside="")

    @staticmethod
    def run(args) -> int:
        import torch

        from ..evaluation.likelihood import per_example_terms
        from ..evaluation.ood import DEFAULT_K
        from ..runs.ood import default_method, example_scores
        from ..files import atomic_write_text
        from ._shared import check_writable

        check_writable(args.run_dir, args.out, Figures.SCORES)  # before any work

        evaluated = open_run_of(args)
        model, data = evaluated.model, evaluated.data
        columns = score_columns(per_example_terms(model, data, k=args.k, seed=args.seed))
        method = args.method or default_method(model)
        columns[f"{method}_score"] = torch.from_numpy(example_scores(args.run_dir, evaluated, method, args.k or DEFAULT_K,
                                                                     args.seed))
        labels = None if data.labels is None else data.labels.cpu().tolist()
        out = RunDir(args.run_dir).output(args.out, Figures.SCORES)
        atomic_write_text(out, scores_csv(columns, labels))
        ranked = f"{method}_score"  # a corrected score: the raw likelihood can rank simple outliers as likely
        top = columns[ranked].argsort(descending=True)[:SHOWN].tolist()
        print(f"written: {out} ({len(data)} rows)")
        print(f"highest {ranked}: indices {', '.join(map(str, top))}")
        return 0


def score_columns(terms: dict) -> dict:
    """name -> (N,) float64: the score columns from ``per_example_terms``, higher = less likely."""
    columns = {}
    if "elbo" in terms:
        columns["negative_elbo_nats"] = -terms["elbo"]
    else:  # an autoencoder has no ELBO; its reconstruction term is the score
        columns["negative_log_px_z_nats"] = -terms["log_px_z"]
    if "log_px" in terms:
        columns["nll_nats"] = -terms["log_px"]
    return columns


def scores_csv(columns: dict, labels: list | None) -> str:
    """The CSV text: index, label (when given), then the score columns to 6 decimals."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["index"] + ([] if labels is None else ["label"]) + list(columns))
    values = [column.tolist() for column in columns.values()]
    for index, row in enumerate(zip(*values)):
        writer.writerow([index] + ([] if labels is None else [labels[index]]) + [f"{v:.6f}" for v in row])
    return buffer.getvalue()
