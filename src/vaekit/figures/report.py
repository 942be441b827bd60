"""The run report's page: one self-contained HTML file (images embedded) that reads top to bottom.

Sections are small functions ``(context) -> Section | None``; a section without the data it needs
(no labels for a probe, no prior for samples) is left out, and the page says which were left out.
"""

from __future__ import annotations

import base64
import html
import io
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..config import dump_config  # noqa: E402
from ..files import atomic_write_text  # noqa: E402
from ..rundir import Figures, RunDir  # noqa: E402


@dataclass
class Section:
    title: str
    body: str  # HTML


@dataclass
class ReportContext:
    """What the sections draw from: the run folder, the run opened for evaluation and its results."""

    run_dir: Path
    evaluated: object  # vaekit.runs.open.EvaluationData
    results: dict  # vaekit.runs.evaluate.evaluate_run output
    history: list[dict]
    left_out: list[str] = field(default_factory=list)


def embed_png(path_or_bytes) -> str:
    """An <img> with the PNG inside the page as base64, so the file can be mailed on its own."""
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def figure_png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list):
        return f"{len(value)} values (see the chart below or eval.json)"
    return str(value)


STYLE = """
body { font-family: sans-serif; max-width: 60em; margin: 2em auto; color: #222; line-height: 1.4; }
h1 { border-bottom: 2px solid #444; } h2 { margin-top: 2em; border-bottom: 1px solid #bbb; }
table { border-collapse: collapse; } th, td { padding: 0.2em 0.8em; border-bottom: 1px solid #ddd; text-align: left; }
th { font-weight: normal; color: #555; } pre { background: #f5f5f5; padding: 1em; overflow-x: auto; }
img { max-width: 100%; } .note { color: #666; font-size: 0.9em; }
"""


def render(title: str, sections: list[Section], left_out: list[str]) -> str:
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
             f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>"]
    parts.append("<ul>" + "".join(f"<li><a href='#s{i}'>{html.escape(s.title)}</a></li>" for i, s in enumerate(sections)) + "</ul>")
    for i, section in enumerate(sections):
        parts.append(f"<h2 id='s{i}'>{html.escape(section.title)}</h2>{section.body}")
    if left_out:
        parts.append("<p class='note'>Left out: " + html.escape("; ".join(left_out)) + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(path: Path, title: str, context: ReportContext, section_makers: list[Callable]) -> Path:
    sections = [s for s in (make(context) for make in section_makers) if s is not None]
    atomic_write_text(path, render(title, sections, context.left_out))
    return path


def summary_section(context: ReportContext) -> Section:
    config, results, history = context.evaluated.config, context.results, context.history
    best = max(history, key=lambda row: row.get("val_elbo", row.get("train_elbo", float("-inf"))), default={})
    rows = [("data", f"{results.get('data')} (evaluated on the {results.get('split')} split)"),
            ("model", f"{config.model.name}, trunk {config.model.trunk.name}, latent_dim {config.model.latent_dim}, "
                      f"likelihood {config.model.likelihood.name}"),
            ("epochs run", str(len(history))), ("best epoch (validation)", str(best.get("epoch", "-")))]
    for key, label in [("elbo_nats", "test ELBO, nats per example"), ("nll_nats", "test NLL, nats per example"),
                       ("active_units", "active units"), ("probe_accuracy", "linear probe accuracy"),
                       ("nll_bits_per_dim", "test NLL, bits per dimension"),
                       ("conditional_sample_accuracy", "samples classified as the class drawn for"),
                       ("sample_classifier_test_accuracy", "the same classifier on real test data")]:
        if key in results:
            rows.append((label, format_value(results[key])))
    return Section("Summary", table(rows))


def config_section(context: ReportContext) -> Section:
    return Section("Configuration", f"<pre>{html.escape(dump_config(context.evaluated.config))}</pre>")


def picture_section(title: str, file: str, caption: str = "") -> Callable:
    """A section showing RUN_DIR/report/FILE (or RUN_DIR/FILE), left out when the file is absent."""

    def make(context: ReportContext) -> Section | None:
        path = next((p for p in (RunDir(context.run_dir).report_figure(file), RunDir(context.run_dir).figure(file)) if p.is_file()), None)
        if path is None:
            context.left_out.append(f"{title} ({file} was not made)")
            return None
        return Section(title, (f"<p>{html.escape(caption)}</p>" if caption else "") + embed_png(path))

    return make


def evaluation_section(context: ReportContext) -> Section:
    scalars = [(key, format_value(value)) for key, value in context.results.items() if not isinstance(value, list)]
    return Section("Evaluation", "<p>Every number carries its unit in its name; nats are per example.</p>" + table(scalars))


def probe_section(context: ReportContext) -> Section | None:
    results = context.results
    if "probe_accuracy" not in results:
        context.left_out.append("linear probe (the data have no labels, or the whole file was evaluated)")
        return None
    rows = [("logistic regression on the posterior means", f"{results['probe_accuracy']:.3f}"),
            ("the same on the raw inputs", f"{results['raw_probe_accuracy']:.3f}"),
            ("chance (most common label)", f"{results['chance_accuracy']:.3f}"),
            ("training / test examples", f"{results['probe_train_examples']} / {results['probe_test_examples']}")]
    return Section("Linear probe", "<p>Test accuracy of a classifier trained on the training split.</p>" + table(rows))


def explore_section(context: ReportContext) -> Section:
    command = f"vaekit explore {shlex.quote(str(context.run_dir))}"
    return Section("Explore", "<p>Explore this run's latent space in the browser (map, sliders, paths, traversals; "
                   f"a local page that works offline):</p><pre>{html.escape(command)}</pre>")


DISENTANGLEMENT_ROWS = [("beta_vae_score", "BetaVAE score"), ("factor_vae_score", "FactorVAE score"), ("mig", "MIG"),
                        ("sap", "SAP"), ("dci_disentanglement", "DCI disentanglement"),
                        ("dci_completeness", "DCI completeness"), ("dci_informativeness_test", "DCI informativeness (test)"),
                        ("modularity", "modularity"), ("explicitness_test", "explicitness (test)"),
                        ("gaussian_total_correlation_nats", "Gaussian total correlation, nats")]
DISENTANGLEMENT_FIGURES = [(Figures.MUTUAL_INFORMATION, "Mutual information between each latent dimension and each factor."),
                           (Figures.FACTOR_TRAVERSAL, "Each factor's most informative dimension swept over its range."),
                           (Figures.FACTOR_SCATTER, "That dimension against the factor's value.")]


def disentanglement_section(context: ReportContext) -> Section | None:
    """The disentanglement metrics of the evaluation (fast sample counts) and their figures, for data with factors."""
    results = context.results
    if not any(key in results for key, _ in DISENTANGLEMENT_ROWS):
        if "disentanglement_left_out" in results:
            context.left_out.append(f"disentanglement ({results['disentanglement_left_out']})")
        return None
    rows = [(label, format_value(results[key])) for key, label in DISENTANGLEMENT_ROWS if key in results]
    body = ("<p>On the evaluation split with disentanglement_lib's definitions and smaller sample counts; "
            "'vaekit disentangle RUN' gives the full counts.</p>" + table(rows))
    for file, caption in DISENTANGLEMENT_FIGURES:
        path = RunDir(context.run_dir).report_figure(file)
        if path.is_file():
            body += f"<p>{html.escape(caption)}</p>" + embed_png(path)
    return Section("Disentanglement", body)


SECTIONS = [
    summary_section,
    config_section,
    picture_section("Training curves", Figures.CURVES, "ELBO and KL per epoch, nats per example."),
    evaluation_section,
    picture_section("Reconstructions", Figures.RECONSTRUCTIONS, "Inputs (upper row of each pair) and the means of p(x|z) at z = E[q(z|x)]."),
    picture_section("Samples", Figures.SAMPLES, "Means of p(x|z) for z drawn from the prior."),
    picture_section("Interpolations", Figures.INTERPOLATION, "From the first to the second evaluation example in latent space: linear and spherical."),
    picture_section("Traversals", Figures.TRAVERSAL, "Each row sweeps one latent coordinate from -3 to +3 around the first example's posterior mean; rows by KL."),
    picture_section("Latent map", Figures.LATENT_MAP, "Posterior means in two dimensions, coloured by label."),
    picture_section("Decoded manifold", Figures.MANIFOLD, "Decoded over the prior's quantiles (2-D latent spaces)."),
    picture_section("KL per latent dimension", Figures.KL_PER_DIMENSION, "Mean KL over the evaluation split, nats."),
    picture_section("Code use", Figures.CODE_USE, "How often each code of each codebook is chosen over the evaluation split "
                    "(a VQ-VAE), most used first; unused codes are dead."),
    probe_section,
    picture_section("Samples per class", Figures.CLASS_SAMPLES, "A conditional model: one row per class, samples drawn for it."),
    explore_section,
    disentanglement_section,
]
