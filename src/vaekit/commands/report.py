"""vaekit report: one self-contained HTML page about a run."""

from __future__ import annotations

from ..rundir import RunDir
from ._shared import announce, importance_samples_option, run_dir_arguments
from .registry import COMMANDS


@COMMANDS.register("report")
class Report:
    help = "write RUN_DIR/report.html: config, curves, evaluation, samples and the latent space, images embedded"
    description = (
        "Write RUN_DIR/report.html with the configuration, training curves, evaluation table, reconstructions, "
        "samples, interpolations, traversals, latent map, KL per latent dimension and linear probe. The "
        "evaluation is read from RUN_DIR/eval.json when it exists ('vaekit eval --k 5000' first for the paper "
        "protocol), else it is computed with --k and written there. Figures and their arrays go to RUN_DIR/report/."
    )

    @staticmethod
    def arguments(p) -> None:
        run_dir_arguments(p, data_help=None)
        importance_samples_option(p, f"when there is no {RunDir.EVALUATION} yet (default 0)")

    @staticmethod
    def run(args) -> int:
        from ..runs.report import write_report
        from ._shared import check_writable

        check_writable(args.run_dir, None, RunDir.REPORT, also=(RunDir.EVALUATION,),  # before any work
                       folders=(RunDir.REPORT_FIGURES,))

        announce(write_report(args.run_dir, args.k, args.device))
        return 0
