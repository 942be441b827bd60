"""The study's table: one row per recorded point, to OUT/results.csv and OUT/results.json, and as text.

A row holds the point's name, status, variant, swept settings (by dotted key), seed, steps, wall
time (training, and the whole point with its evaluations), the error of a failed point, then every
number its training (the best epoch's metrics.csv row) and evaluations produced, in first-seen order.
"""

from __future__ import annotations

import csv
import io
import json
import math
from typing import Any

from ..evaluation.metrics import METRICS, metrics
from ..files import atomic_write_json, atomic_write_text
from .folder import StudyDir

IDENTITY = ["name", "status", "variant", "seed", "steps", "epochs", "train_seconds", "wall_seconds", "error"]
SUMMARY_NUMBERS = ["val_elbo", "val_log_px_z"]  # shown beside the evaluations' headline metrics


def result_rows(records: list[dict], swept_keys: list[str], order: list[str] | None = None) -> list[dict]:
    """The rows of ``records`` (in ``order`` of names when given, the rest after), settings by dotted key."""
    position = {name: i for i, name in enumerate(order or [])}
    records = sorted(records, key=lambda r: (position.get(r["name"], len(position)), r["name"]))
    rows = []
    for record in records:
        numbers = dict(record.get("metrics", {}))
        row = {"name": record["name"], "status": record["status"], "variant": record.get("variant"),
               **{key: record["settings"].get(key) for key in swept_keys}, "seed": record["seed"],
               "steps": record.get("steps"), "epochs": numbers.pop("epochs", None),
               "train_seconds": record.get("train_seconds"), "wall_seconds": record.get("wall_seconds"),
               "error": record.get("error", "")}
        row.update({key: value for key, value in numbers.items() if key not in row})  # a setting's column wins
        rows.append(row)
    return rows


def columns(rows: list[dict]) -> list[str]:
    return list(dict.fromkeys(key for row in rows for key in row))


def write_results(study: StudyDir, rows: list[dict], sweep: dict) -> None:
    """OUT/results.csv (every column; lists as JSON) and OUT/results.json ({'sweep': ..., 'rows': [...]})."""
    names = columns(rows)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: cell(row.get(key)) for key in names})
    atomic_write_text(study.results_csv, buffer.getvalue())
    atomic_write_json(study.results_json, {"sweep": sweep, "rows": rows})


def cell(value: Any) -> Any:
    if value is None:
        return ""
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def plotted_metrics(rows: list[dict]) -> list[str]:
    """The numbers the figures show: the training's validation terms, then the registered metrics the rows
    have (registry order); with several rows, a number the same in every row (a count, chance accuracy)
    is left out."""
    present = set(columns(rows))
    registered = [metric.name for metric in metrics() if metric.table and metric.name in present]
    return [key for key in [*SUMMARY_NUMBERS, *registered]
            if key in present and (varies(rows, key) or (len(rows) == 1 and is_number(rows[0].get(key))))]


def varies(rows: list[dict], key: str) -> bool:
    """Whether ``key`` holds numbers in ``rows`` that are not all the same."""
    values = {row.get(key) for row in rows if is_number(row.get(key))}
    return len(values) > 1


def summary_columns(rows: list[dict], swept_keys: list[str]) -> list[str]:
    """The columns of the printed table: name, status, steps, wall time and the headline numbers."""
    present = set(columns(rows))
    headline = [m.name for m in METRICS.values() if m.headline and m.name in present]
    disentangling = [m.name for m in metrics("disentanglement") if m.table and m.name in present]
    numbers = [key for key in SUMMARY_NUMBERS if key in present] + headline + disentangling
    return ["name", "status", "steps", "wall_seconds", *numbers]


def text_table(rows: list[dict], shown: list[str]) -> str:
    """A plain table, one line per row, columns padded; failed rows end with their error."""
    cells = [[format_cell(row.get(key)) for key in shown] for row in rows]
    widths = [max(len(str(key)), *(len(line[i]) for line in cells)) for i, key in enumerate(shown)]
    lines = ["  ".join(key.ljust(width) for key, width in zip(shown, widths))]
    for row, line in zip(rows, cells):
        text = "  ".join(value.ljust(width) for value, width in zip(line, widths)).rstrip()
        lines.append(text + (f"  {row['error']}" if row.get("error") else ""))
    return "\n".join(lines)


def format_cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
