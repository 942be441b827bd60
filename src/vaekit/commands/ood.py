"""vaekit ood: out-of-distribution detection with the field's corrected scores, against given data sets."""

from __future__ import annotations

from ..rundir import RunDir
from ._shared import announce, listed, run_dir_arguments, seed_option
from .registry import COMMANDS


@COMMANDS.register("ood")
class Ood:
    help = f"out-of-distribution detection: AUROC, AUPRC, FPR at TPR 0.95 per method and --against set -> RUN_DIR/{RunDir.OOD}"
    description = (
        "Score the run's test split (in-distribution; --data for another) and each --against set (any data spec "
        "whose examples have the model's shape: FILE.npz, mnist:DIR, an image folder, ...) with each method, and "
        "report, with the out-of-distribution examples as the positive class, AUROC, AUPRC and the false-positive "
        "rate at 95% true-positive rate. Raw likelihoods (nll, neg_elbo) can rank simple outliers as more likely "
        "than the training data (Nalisnick et al. 2019); the corrected scores are likelihood_ratio (Ren et al. 2019; "
        "trains a background model on perturbed training data into RUN_DIR/ood_background unless --background), "
        "input_complexity (Serra et al. 2020), typicality (Nalisnick et al. 2019, batches of 10; typicality_example "
        "per example) and likelihood_regret (Xiao et al. 2020). An autoencoder gets reconstruction and "
        "residual_complexity. Writes RUN_DIR/ood.json (the table and the settings) and RUN_DIR/ood/: per method "
        "the score histograms and ROC curves, and scores.npz."
    )

    @staticmethod
    def arguments(p) -> None:
        from ..config.ranges import COUNT, IMPORTANCE_SAMPLES
        from ..evaluation.ood import DEFAULT_K, OOD_METHODS
        from ._shared import number_option

        run_dir_arguments(p, data_help="in-distribution data instead of the run's test split (same shape)")
        p.add_argument("--against", action="append", required=True, metavar="DATA",
                       help="an out-of-distribution data set (a data spec, as --data); repeat for several")
        p.add_argument("--methods", help=f"comma-separated, from: {listed(OOD_METHODS)} (default: every one the "
                       "model supports)")
        number_option(p, "--examples", allowed=COUNT, default=None, help="score a seeded random subset of this many "
                      "examples of each set (default: all)")
        number_option(p, "--k", allowed=IMPORTANCE_SAMPLES, default=DEFAULT_K, help="importance samples for log p(x)")
        p.add_argument("--background", metavar="RUN", help="a run folder whose model is the likelihood ratio's "
                       "background (default: train one into RUN_DIR/ood_background)")
        seed_option(p, "the subsets and every draw")

    @staticmethod
    def run(args) -> int:
        from ..runs.ood import ood
        from ._shared import check_writable

        check_writable(args.run_dir, None, RunDir.OOD, folders=(RunDir.OOD_FIGURES,))  # before any work
        methods = None if args.methods is None else [m.strip() for m in args.methods.split(",") if m.strip()]
        table = ood(args.run_dir, args.against, methods, args.examples, args.seed, args.k, args.background,
                    args.data, args.device)
        print(f"{'set':<20} {'method':<20} {'AUROC':>7} {'AUPRC':>7} {'FPR@95':>7}")
        for name, rows in table.items():
            for method, numbers in rows.items():
                print(f"{name:<20} {method:<20} {numbers['auroc']:>7.4f} {numbers['auprc']:>7.4f} "
                      f"{numbers['fpr_at_95_tpr']:>7.4f}")
        run = RunDir(args.run_dir)
        announce(run.ood)
        announce(run.ood_folder)
        return 0
