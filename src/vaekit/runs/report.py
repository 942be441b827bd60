"""A run's report: evaluate the run (or read its eval.json), draw the latent-space figures it shows,
and write RUN_DIR/report.html with ``figures.report``.
"""

from __future__ import annotations

from pathlib import Path

from ..evaluation.metrics import METRICS, formatted_results, labelled_rows
from ..figures.codes import code_use_histogram
from ..figures.latent import kl_bar_chart
from ..figures.latent_outputs import (
    class_sample_outputs,
    example_labels,
    interpolation_outputs,
    latent_map_outputs,
    traversal_outputs,
)
from ..figures.names import figure_file
from ..figures.report import SECTIONS, ReportContext, write_html
from ..rundir import RunDir
from ..seeding import seeded
from .disentangle import draw_figures
from .evaluate import evaluate_run
from .open import class_names, open_run


def evaluation_results(run_dir: Path, evaluated, k: int) -> dict:
    """RUN_DIR/eval.json when its headline scored the weights there now (a long --k evaluation is kept), else
    a new evaluation, added there; eval.json as it is then (its headline: the tightest of these weights)."""
    run = RunDir(run_dir)
    if not run.evaluation_is_current():
        run.write_evaluation(evaluate_run(evaluated, k=k))
    return run.read_evaluation()


def estimate_row(results: dict) -> tuple[str, str]:
    """The summary's first row: which estimate the numbers are (K importance samples, or the ELBO alone),
    and the other evaluations eval.json keeps (``RunDir.write_evaluation``)."""
    k = results.get("k", 0)
    text = f"log p(x) with K = {k} importance samples" if k else "the ELBO only (K = 0)"
    text += f", {results.get('examples', '?')} examples of the {results.get('split', '?')} split"
    kept = results.get(RunDir.EVALUATIONS, {}).values()
    weights = results.get(RunDir.WEIGHTS_ID)
    ours = sorted({e.get("k", 0) for e in kept if e.get(RunDir.WEIGHTS_ID) == weights and e.get("data") == results.get("data")})
    earlier = sorted({e.get("k", 0) for e in kept if e.get(RunDir.WEIGHTS_ID) != weights})
    if len(ours) > 1:
        text += f"; the tightest of this model's evaluations (K = {', '.join(map(str, ours))})"
    if earlier:
        text += f"; {RunDir.EVALUATION} also keeps K = {', '.join(map(str, earlier))} of earlier weights"
    return "estimate", text


def make_figures(run_dir: Path, evaluated, results: dict) -> None:
    """The latent-space figures the report shows, in RUN_DIR/report/ (each with its .npz)."""
    run = RunDir(run_dir)
    folder = run.report_folder
    folder.mkdir(exist_ok=True)
    data, latent_dim = evaluated.data, evaluated.config.model.latent_dim
    first = data.inputs(slice(0, 2)).cpu()
    labels = example_labels(evaluated, slice(0, 2))  # a conditional model's: None otherwise
    if len(first) == 2:
        interpolation_outputs(evaluated.model, first[0], first[1], 10, ["linear", "slerp"],
                              folder / figure_file("interpolation"),
                              "evaluation examples 0 to 1", labels)
    top = min(latent_dim, 8) if evaluated.model.prior is not None else None  # no KL to rank an autoencoder's dims by
    traversal_outputs(evaluated, first[0], top, 3.0, 9, folder / figure_file("traversal"), "example 0",
                      None if labels is None else labels[:1])
    if evaluated.model.classes and evaluated.model.prior is not None:
        with seeded(0, "cpu"):
            class_sample_outputs(evaluated.model, 8, 1.0, folder / figure_file("class_samples"), "samples per class",
                                 class_names(run_dir))
    if latent_dim >= 2:
        latent_map_outputs(evaluated, folder / figure_file("latent_map"))
    if "code_counts" in results:  # a VQ-VAE's codebooks
        perplexities = [results[key] for key in METRICS.get("codebook_perplexity").keys(results)]  # (S,)
        code_use_histogram(results["code_counts"], perplexities, folder / figure_file("code_use"))
    if getattr(data, "factors", None) is not None:
        draw_figures(folder, evaluated.model, data)  # the disentanglement section's figures
    if "kl_per_dim_nats" in results:
        kl_bar_chart(results["kl_per_dim_nats"], results["posterior_mean_variance"],
                     results["active_unit_threshold"], folder / figure_file("kl_per_dimension"))


def report_rows(results: dict) -> dict[str, list[tuple[str, str]]]:
    """The report's tables from the metric registry: 'summary' (headline metrics by label),
    'evaluation' (every scalar of eval.json by its key), and per section the rows its metrics show."""
    rows = {"summary": [estimate_row(results), *labelled_rows(results, headline=True)],
            "evaluation": [(key, value) for key, value in formatted_results(results)
                           if not isinstance(results[key], (list, dict))]}
    for section in ("probe", "disentanglement"):
        rows[section] = labelled_rows(results, section)
    return rows


def write_report(run_dir: str | Path, k: int = 0, device: str = "auto", evaluated=None) -> Path:
    """RUN_DIR/report.html: every section of the run, images embedded (one file to mail).

    The evaluation comes from RUN_DIR/eval.json when present, else it is run with ``k`` importance
    samples and written there. Figures go to RUN_DIR/report/ with their arrays. ``evaluated`` (an
    ``EvaluationData``) saves reloading the run when the caller has it, as training does.
    """
    run = RunDir.check(run_dir)
    run_dir = run.path
    evaluated = evaluated or open_run(run_dir, device)
    results = evaluation_results(run_dir, evaluated, k)
    make_figures(run_dir, evaluated, results)
    context = ReportContext(run_dir, evaluated, results, run.read_metrics(), report_rows(results))
    return write_html(run.report, f"vaekit run {run_dir.name}", context, SECTIONS)
