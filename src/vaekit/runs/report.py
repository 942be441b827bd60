"""A run's report: evaluate the run (or read its eval.json), draw the latent-space figures it shows,
and write RUN_DIR/report.html with ``figures.report``.
"""

from __future__ import annotations

import csv
import json
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
from ..io import atomic_write_json
from ..seeding import seeded
from .disentangle import draw_figures
from .evaluate import evaluate_run
from .open import class_names, open_run


def read_history(run_dir: Path) -> list[dict]:
    path = run_dir / "metrics.csv"
    if not path.is_file():
        return []
    with open(path) as handle:
        rows = [{key: float(value) for key, value in row.items() if value != ""} for row in csv.DictReader(handle)]
    return [{**row, "epoch": int(row["epoch"])} for row in rows]


def evaluation_results(run_dir: Path, opened, k: int) -> dict:
    """RUN_DIR/eval.json when it is newer than the weights (a long --k evaluation is kept), else a new
    evaluation, written there."""
    path = run_dir / "eval.json"
    if path.is_file() and path.stat().st_mtime >= (run_dir / "model.safetensors").stat().st_mtime:
        return json.loads(path.read_text())
    results = evaluate_run(opened, k=k)
    atomic_write_json(path, results)
    return results


def make_figures(run_dir: Path, opened, results: dict) -> None:
    """The latent-space figures the report shows, in RUN_DIR/report/ (each with its .npz)."""
    folder = run_dir / "report"
    folder.mkdir(exist_ok=True)
    data, latent_dim = opened.data, opened.config.model.latent_dim
    first = data.inputs(slice(0, 2)).cpu()
    labels = example_labels(opened, slice(0, 2))  # a conditional model's: None otherwise
    if len(first) == 2:
        interpolation_outputs(opened.model, first[0], first[1], 10, ["linear", "slerp"],
                              folder / figure_file("interpolation"),
                              "evaluation examples 0 to 1", labels)
    top = min(latent_dim, 8) if opened.model.prior is not None else None  # no KL to rank an autoencoder's dims by
    traversal_outputs(opened, first[0], top, 3.0, 9, folder / figure_file("traversal"), "example 0",
                      None if labels is None else labels[:1])
    if opened.model.classes and opened.model.prior is not None:
        with seeded(0, "cpu"):
            class_sample_outputs(opened.model, 8, 1.0, folder / figure_file("class_samples"), "samples per class",
                                 class_names(run_dir))
    if latent_dim >= 2:
        latent_map_outputs(opened, folder / figure_file("latent_map"))
    if "code_counts" in results:  # a VQ-VAE's codebooks
        perplexities = [results[key] for key in METRICS.get("codebook_perplexity").keys(results)]  # (S,)
        code_use_histogram(results["code_counts"], perplexities, folder / figure_file("code_use"))
    if getattr(data, "factors", None) is not None:
        draw_figures(folder, opened.model, data)  # the disentanglement section's figures
    if "kl_per_dim_nats" in results:
        kl_bar_chart(results["kl_per_dim_nats"], results["posterior_mean_variance"],
                     results["active_unit_threshold"], folder / figure_file("kl_per_dimension"))


def report_rows(results: dict) -> dict[str, list[tuple[str, str]]]:
    """The report's tables from the metric registry: 'summary' (headline metrics by label),
    'evaluation' (every scalar of eval.json by its key), and per section the rows its metrics show."""
    rows = {"summary": labelled_rows(results, headline=True),
            "evaluation": [(key, value) for key, value in formatted_results(results)
                           if not isinstance(results[key], list)]}
    for section in ("probe", "disentanglement"):
        rows[section] = labelled_rows(results, section)
    return rows


def write_report(run_dir: str | Path, k: int = 0, device: str = "auto", opened=None) -> Path:
    """RUN_DIR/report.html: every section of the run, images embedded (one file to mail).

    The evaluation comes from RUN_DIR/eval.json when present, else it is run with ``k`` importance
    samples and written there. Figures go to RUN_DIR/report/ with their arrays. ``opened`` (an
    ``EvaluationData``) saves reloading the run when the caller has it, as training does.
    """
    run_dir = Path(run_dir)
    opened = opened or open_run(run_dir, device)
    results = evaluation_results(run_dir, opened, k)
    make_figures(run_dir, opened, results)
    context = ReportContext(run_dir, opened, results, read_history(run_dir), report_rows(results))
    return write_html(run_dir / "report.html", f"vaekit run {run_dir.name}", context, SECTIONS)
