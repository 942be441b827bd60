"""A study's figures and page: each metric against each swept parameter (every seed a point, the median
over seeds a line, in the style of Locatello et al. 2019), the rate-distortion plane (each run a point,
KL against the reconstruction term; Alemi et al. 2018, "Fixing a broken ELBO"), and study.html, made
of the run report's parts (``figures.report``: images embedded, so the file stands alone)."""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np

from ..files import atomic_write_text
from .grids import plt, save_figure
from .report import Section, embed_png, render, table

PANELS_PER_ROW = 3


def metric_against_parameter(rows: list[dict], parameter: str, keys: list[str], path: str | Path) -> Path:
    """One panel per metric in ``keys``: its value in each row (a point per run, so seeds spread
    vertically) against the row's ``parameter``, with the median over the rows of each value as a line.
    Numeric values are placed on their axis (log-scaled when they span more than a factor of 20), any
    other values are categories in first-seen order. ``rows``: the results' rows (dicts)."""
    values = [row.get(parameter) for row in rows]
    distinct = list(dict.fromkeys(map(repr, values)))
    numeric = all(_is_number(v) for v in values)
    position = {text: i for i, text in enumerate(distinct)}
    x = np.array([float(v) if numeric else position[repr(v)] for v in values])  # (runs,)
    columns = min(PANELS_PER_ROW, len(keys))
    lines = math.ceil(len(keys) / columns)
    fig, axes = plt.subplots(lines, columns, figsize=(4.2 * columns, 3.2 * lines), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        y = np.array([float(row[key]) if _is_number(row.get(key)) else np.nan for row in rows])  # (runs,)
        ax.plot(x, y, "o", alpha=0.6, color="C0", label="a run (each seed)")
        levels, medians = median_line(x, y)
        ax.plot(levels, medians, "-", color="C1", label="median over seeds")
        ax.set(xlabel=parameter, title=key)
        if numeric and min(levels) > 0 and max(levels) / min(levels) > 20:
            ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(range(len(distinct)), [_short(text) for text in distinct], rotation=30, ha="right")
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize="small")
    fig.tight_layout()
    return save_figure(fig, path)


def median_line(x: np.ndarray, y: np.ndarray) -> tuple[list[float], list[float]]:
    """(levels, medians): each distinct x (sorted) and the median of the finite y at it (NaN if none)."""
    levels = sorted(set(x.tolist()))
    finite = np.isfinite(y)
    return levels, [float(np.median(y[(x == level) & finite])) if (finite & (x == level)).any() else float("nan")
                    for level in levels]


def rate_distortion(rates: list[float], distortions: list[float], groups: list[str], path: str | Path,
                    source: str) -> Path:
    """Each run a point: rate R = KL(q(z|x) || p(z)) on x, distortion D = -log p(x|z) on y, nats per example,
    coloured by ``groups`` (a label per run); dotted lines of constant -ELBO = D + R. ``source`` names
    where the numbers come from (the evaluation or the best validation epoch)."""
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for i, group in enumerate(dict.fromkeys(groups)):
        chosen = [k for k, g in enumerate(groups) if g == group]
        ax.plot([rates[k] for k in chosen], [distortions[k] for k in chosen], "o", color=f"C{i % 10}", label=group)
    finite = [r + d for r, d in zip(rates, distortions) if math.isfinite(r + d)]
    if finite:
        top = max(rates + [0.0])
        for level in np.linspace(min(finite), max(finite), 4):
            ax.plot([0, top], [level, level - top], ":", color="grey", linewidth=0.8)
    ax.set(xlabel="rate R = KL, nats per example", ylabel="distortion D = -log p(x|z), nats per example",
           title=f"rate-distortion plane ({source}); dotted: constant ELBO")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return save_figure(fig, path)


def write_study_page(path: Path, title: str, overview: list[tuple[str, str]], header: list[str],
                     rows: list[list[str]], figures: list[tuple[str, str, Path]], left_out: list[str]) -> Path:
    """study.html: the overview (label, value), the results table (``header`` and formatted ``rows``) and
    the figures (title, caption, PNG path) embedded."""
    results = "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>" + "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows) + "</table>"
    sections = [Section("Study", table(overview)), Section("Results", results)]
    sections += [Section(name, f"<p>{html.escape(caption)}</p>{embed_png(png)}") for name, caption, png in figures]
    atomic_write_text(path, render(title, sections, left_out))
    return path


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _short(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
