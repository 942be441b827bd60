"""Rows of a table written back as CSV, with the training data's column names."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import torch

from ..files import atomic_write_text


def write_rows(path: str | Path, rows: torch.Tensor, columns: list[str]) -> None:
    """rows (N, F) in the data's units -> CSV with a header of the F column names."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows(rows.tolist())
    atomic_write_text(path, buffer.getvalue())
