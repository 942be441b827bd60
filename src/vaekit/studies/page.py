"""OUT/study.html and its figures (OUT/figures/): each plotted metric against each swept parameter, the
rate-distortion plane, and the results table, from the results' rows."""

from __future__ import annotations

from pathlib import Path

from ..figures.study import metric_against_parameter, rate_distortion, write_study_page
from .folder import StudyDir
from .results import format_cell, is_number, plotted_metrics, summary_columns

# (rate, distortion sign, column of the reconstruction term): the evaluation's numbers, else the best epoch's
RATE_DISTORTION_SOURCES = [("kl_nats", "log_px_z_nats", "the evaluation"),
                           ("val_kl", "val_log_px_z", "the best validation epoch")]


def write_page(study: StudyDir, rows: list[dict], swept: list[str], where: str) -> Path:
    """Draw the figures and write study.html; returns its path."""
    done = [row for row in rows if row["status"] == "done"]
    figures, left_out = [], []
    keys = plotted_metrics(done)
    parameters = swept + (["variant"] if any(row.get("variant") for row in rows) else [])
    study.figures.mkdir(parents=True, exist_ok=True)
    for parameter in parameters:
        if not done or not keys:
            left_out.append(f"metrics against {parameter} (no finished run with numbers)")
            continue
        png = metric_against_parameter(done, parameter, keys, study.against_figure(parameter))
        figures.append((f"Metrics against {parameter}",
                        "Each point a run (its seed); the line joins the medians over seeds.", png))
    figures += rate_distortion_figure(study, done, parameters, left_out)
    failed = [row["name"] for row in rows if row["status"] != "done"]
    overview = [("sweep file", where), ("points recorded", str(len(rows))), ("finished", str(len(done))),
                ("failed", ", ".join(failed) or "none"), ("swept", ", ".join(parameters) or "seeds only")]
    shown = summary_columns(rows, swept)
    header = shown[:1] + [p for p in parameters] + shown[1:]
    table_rows = [[format_cell(row.get(key)) for key in header] for row in rows]
    return write_study_page(study.page, f"vaekit study: {study.path.name}", overview, header, table_rows, figures,
                            left_out)


def rate_distortion_figure(study: StudyDir, rows: list[dict], parameters: list[str], left_out: list[str]) -> list:
    for rate_key, reconstruction_key, source in RATE_DISTORTION_SOURCES:
        chosen = [row for row in rows if is_number(row.get(rate_key)) and is_number(row.get(reconstruction_key))]
        if chosen:
            group = parameters[0] if parameters else None
            groups = [f"{group}={format_cell(row.get(group))}" if group else "runs" for row in chosen]
            png = rate_distortion([row[rate_key] for row in chosen], [-row[reconstruction_key] for row in chosen],
                                  groups, study.rate_distortion_figure, source)
            return [("Rate and distortion", f"KL (rate) against -log p(x|z) (distortion), each run a point, from "
                     f"{source} (Alemi et al. 2018).", png)]
    left_out.append("rate-distortion plane (no run has a KL and a reconstruction term)")
    return []
