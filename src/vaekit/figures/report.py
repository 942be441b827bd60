"""The run report's page: one self-contained HTML file (images embedded) that reads top to bottom.

Sections are small functions ``(context) -> Section | None``; a section without the data it needs
(no labels for a probe, no prior for samples) is left out, and the page says which were left out.
"""

from __future__ import annotations

import base64
import html
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..config import dump_config
from ..files import atomic_write_text
from ..rundir import RunDir
from .names import DISENTANGLEMENT_FIGURES, FIGURES


@dataclass
class Section:
    title: str
    body: str  # HTML


@dataclass
class ReportContext:
    """What the sections draw from: the run folder, the opened run and its evaluation.

    ``rows``: the evaluation's tables as (label, formatted value), made by the caller from the metric
    registry (``vaekit.evaluation.metrics``): 'summary' (the headline metrics), 'evaluation' (every
    scalar of eval.json by its key) and one per metric section that has rows (e.g. 'disentanglement')."""

    run_dir: Path
    evaluated: object  # vaekit.runs.open.EvaluationData
    results: dict  # vaekit.runs.evaluate.evaluate_run output
    history: list[dict]
    rows: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)


def embed_png(path_or_bytes) -> str:
    """An <img> with the PNG inside the page as base64, so the file can be mailed on its own."""
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


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
    rows += context.rows.get("summary", [])  # the headline metrics, on the evaluated split
    return Section("Summary", table(rows))


def config_section(context: ReportContext) -> Section:
    return Section("Configuration", f"<pre>{html.escape(dump_config(context.evaluated.config))}</pre>")


def picture_section(name: str) -> Callable:
    """A section showing figure ``name`` (``FIGURES``: its file in RUN_DIR/report/ or RUN_DIR/, its
    title and caption), left out when the file is absent."""
    title, file, caption = FIGURES[name].title, FIGURES[name].file, FIGURES[name].caption

    def make(context: ReportContext) -> Section | None:
        path = next((p for p in (RunDir(context.run_dir).report_figure(file), RunDir(context.run_dir).figure(file)) if p.is_file()), None)
        if path is None:
            context.left_out.append(f"{title} ({file} was not made)")
            return None
        return Section(title, (f"<p>{html.escape(caption)}</p>" if caption else "") + embed_png(path))

    return make


def evaluation_section(context: ReportContext) -> Section:
    return Section("Evaluation", "<p>Every number carries its unit in its name; nats are per example.</p>"
                   + table(context.rows.get("evaluation", [])))


def probe_section(context: ReportContext) -> Section | None:
    rows = context.rows.get("probe", [])
    if not rows:
        context.left_out.append("linear probe (the data have no labels, or the whole file was evaluated)")
        return None
    return Section("Linear probe", "<p>Test accuracy of a logistic regression on the posterior means, trained on "
                   "the training split.</p>" + table(rows))


def explore_section(context: ReportContext) -> Section:
    command = f"vaekit explore {shlex.quote(str(context.run_dir))}"
    return Section("Explore", "<p>Explore this run's latent space in the browser (map, sliders, paths, traversals; "
                   f"a local page that works offline):</p><pre>{html.escape(command)}</pre>")


def disentanglement_section(context: ReportContext) -> Section | None:
    """The disentanglement metrics of the evaluation (fast sample counts) and their figures, for data with factors."""
    results, rows = context.results, context.rows.get("disentanglement", [])
    if not rows:
        if "disentanglement_left_out" in results:
            context.left_out.append(f"disentanglement ({results['disentanglement_left_out']})")
        return None
    body = ("<p>On the evaluation split with disentanglement_lib's definitions and smaller sample counts; "
            "'vaekit disentangle RUN' gives the full counts.</p>" + table(rows))
    for name in DISENTANGLEMENT_FIGURES:
        path = RunDir(context.run_dir).report_figure(FIGURES[name].file)
        if path.is_file():
            body += f"<p>{html.escape(FIGURES[name].caption)}</p>" + embed_png(path)
    return Section("Disentanglement", body)


def ood_section(context: ReportContext) -> Section | None:
    """The table of RUN_DIR/ood.json ('vaekit ood') and each method's ROC curves and histograms, when it exists."""
    run = RunDir(context.run_dir)
    results = run.read_ood()
    settings = results.pop("settings", {})
    if not results:
        return None
    head = "<tr><th>set</th><th>method</th><th>AUROC</th><th>AUPRC</th><th>FPR at 95% TPR</th></tr>"
    cells = "".join(f"<tr><td>{html.escape(name)}</td><td>{html.escape(method)}</td>"
                    + "".join(f"<td>{numbers[key]:.4f}</td>" for key in ("auroc", "auprc", "fpr_at_95_tpr")) + "</tr>"
                    for name, rows in results.items() for method, numbers in rows.items())
    body = (f"<p>'vaekit ood': {html.escape(str(settings.get('in_distribution', 'the test split')))} in, each set below "
            f"out (the positive class); k = {settings.get('k', '-')} importance samples.</p><table>{head}{cells}</table>")
    for method in settings.get("methods", []):
        for kind in ("roc", "histogram"):
            path = run.ood_figure(kind, method)
            if path.is_file():
                body += embed_png(path)
    return Section("Out-of-distribution detection", body)


SECTIONS = [
    summary_section,
    config_section,
    picture_section("curves"),
    evaluation_section,
    picture_section("reconstructions"),
    picture_section("samples"),
    picture_section("interpolation"),
    picture_section("traversal"),
    picture_section("latent_map"),
    picture_section("latent_map_manifold"),
    picture_section("kl_per_dimension"),
    picture_section("code_use"),
    probe_section,
    picture_section("class_samples"),
    explore_section,
    disentanglement_section,
    ood_section,
]
