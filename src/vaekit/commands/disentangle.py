"""vaekit disentangle: the disentanglement metrics of a trained run on data with ground-truth factors."""

from __future__ import annotations

from ..rundir import RunDir
from ._shared import announce, run_dir_arguments, seed_option
from .registry import COMMANDS


@COMMANDS.register("disentangle")
class Disentangle:
    help = "disentanglement metrics (BetaVAE, FactorVAE, MIG, Chen et al.'s MIG, SAP, DCI, ...) on data with factors"
    description = (
        "Score the run's representation (the posterior mean) on data with ground-truth factors (the run's own, "
        "or --data: 'dsprites', 'dsprites:PATH' for the original file, or an .npz with 'factors' beside 'x') with "
        "disentanglement_lib's definitions and defaults: BetaVAE and FactorVAE scores, MIG, SAP, DCI, modularity, "
        "explicitness, Gaussian total correlation; and Chen et al.'s own MIG estimator (mig_chen, from samples of "
        "q(z|x) over every example). Writes RUN_DIR/disentanglement.json (every metric, its settings, "
        "sample counts, seed, seconds) and RUN_DIR/disentanglement/: the latent x factor mutual information, a "
        "traversal of each factor's most informative dimension, and that dimension against the factor's value."
    )

    @staticmethod
    def arguments(p) -> None:
        run_dir_arguments(p, data_help="data with factors to use instead of the run's own (same shape)")
        p.add_argument("--fast", action="store_true", help="smaller sample counts (2,000/1,000 points, 1,000/500 votes) "
                       "and only the metrics of cost class 'fast'")
        p.add_argument("--transfer-to", metavar="SPEC", help="also the zero-shot transfer score: factor probes trained "
                       "on the run's codes, tested on codes of the same factors drawn differently, e.g. "
                       "dsprites:intensity=0.5,background=0.2 (DARLA's shifted domain); accuracy on source and target")
        seed_option(p, "the samples and classifiers")

    @staticmethod
    def run(args) -> int:
        from ..evaluation.metrics import metric_rows
        from ..runs.disentangle import disentangle_run
        from ._shared import check_writable

        check_writable(args.run_dir, None, RunDir.DISENTANGLEMENT,  # before any work
                       folders=(RunDir.DISENTANGLEMENT_FIGURES,))

        results = disentangle_run(args.run_dir, args.data, args.fast, args.seed, args.device, args.transfer_to)
        rows = [(key, value) for _, key, value in metric_rows(results, "disentanglement")]  # the registry's table
        width = max(len(key) for key, _ in [*rows, ("seconds", "")])
        for key, value in rows:
            print(f"{key:<{width}}  {value}")
        print(f"{'seconds':<{width}}  {results['seconds']['total']:.1f} (metrics)")
        for path in results["figures"]:
            announce(path)
        announce(RunDir(args.run_dir).disentanglement)
        return 0
