"""CSV tables: a header row, numeric feature columns, and optionally one label column.

Features are kept raw (float32, the file's units) with a per-column affine map to the model:
shift = column mean, scale = 1 / column standard deviation (population; 1 for a constant column).
So ``inputs()`` is standardised (mean 0, std 1 per column) and ``decode_units`` gives rows back in
the file's units. Labels: integers as they are, any other values as indices of their sorted
unique values.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from .array import ArrayData, Splits
from .registry import SOURCES

MISSING = {"", "na", "n/a", "null", "none", "?"}  # spellings of an empty cell (compared lower-case)


def read_rows(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """(header, data rows, the file line of each row); blank lines are skipped."""
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "no such file"
        raise UserError(f"{path}: {what}; pass a CSV file with a header row")
    rows, lines = [], []
    try:
        with path.open(newline="", encoding="utf-8-sig") as file:  # -sig: drop the byte-order mark spreadsheets write
            reader = csv.reader(file)
            header = next(reader, None)
            for row in reader:
                if row:
                    rows.append(row)
                    lines.append(reader.line_num)
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text ({exc}); save the table as UTF-8 CSV") from None
    except csv.Error as exc:
        raise UserError(f"{path}: malformed CSV near line {reader.line_num} ({exc}); fix the quoting there") from None
    if header is None:
        raise UserError(f"{path}: empty file; expected a header row of column names, then one row per example")
    return [name.strip() for name in header], rows, lines


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_header(path: Path, header: list[str]) -> None:
    if all(is_number(name) for name in header):
        raise UserError(f"{path}: the first row ({','.join(header[:3])}...) looks like data, not column names; "
                        "a header row is required: add a first line naming the columns")
    if "" in header:
        raise UserError(f"{path}: column {header.index('') + 1} has no name in the header row; name every column")
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise UserError(f"{path}: duplicate column name(s) {duplicates} in the header; give each column its own name")


def check_rows(path: Path, header: list[str], rows: list[list[str]], lines: list[int]) -> None:
    if not rows:
        raise UserError(f"{path}: no data rows after the header; add one row per example")
    for row, line in zip(rows, lines):
        if len(row) != len(header):
            raise UserError(f"{path}: line {line} has {len(row)} fields but the header has {len(header)} columns; "
                            "every row needs one value per column")


def numeric_column(path: Path, name: str, cells: list[str], lines: list[int]) -> np.ndarray:
    """(N,) float64 values of a feature column; non-numbers, missing values, NaN and Inf are errors."""
    try:
        values = np.array(cells, dtype=np.float64)  # fast path: every cell is a number
    except ValueError:
        values = None
    if values is None:
        # a text cell beats a missing one: it points at the real problem (a column that is not a feature)
        for cell, line in zip(cells, lines):
            if cell.strip().lower() not in MISSING and not is_number(cell):
                raise UserError(
                    f"{path}: column {name!r} is not numeric (e.g. {cell!r} on line {line}); drop the column, or if "
                    f"it holds the labels, make it the label column: --label-column {name} "
                    f"(or --set data.label_column={name})"
                )
        line = next(line for cell, line in zip(cells, lines) if cell.strip().lower() in MISSING)
        raise UserError(f"{path}: column {name!r} has a missing value on line {line}; fill in or drop incomplete rows")
    bad = np.flatnonzero(~np.isfinite(values))
    if len(bad):
        raise UserError(f"{path}: column {name!r} has a NaN or Inf value ({cells[bad[0]]!r}) on line {lines[bad[0]]}; "
                        "fill in or drop the rows with non-finite values")
    return values


def label_column(path: Path, name: str, cells: list[str], lines: list[int]) -> torch.Tensor:
    """(N,) int64 labels: integer cells as they are, other values as indices into their sorted unique values."""
    tokens = [cell.strip() for cell in cells]
    for token, line in zip(tokens, lines):
        if token.lower() in MISSING:
            raise UserError(f"{path}: label column {name!r} has a missing value on line {line}; "
                            "give every row a label or drop the rows without one")
    numbers = np.array(tokens, dtype=np.float64) if all(map(is_number, tokens)) else None
    if numbers is not None and bool(np.isfinite(numbers).all()) and bool((numbers == np.round(numbers)).all()):
        return torch.as_tensor(numbers.astype(np.int64))
    _, codes = np.unique(np.array(tokens), return_inverse=True)  # names -> 0..L-1 in sorted order
    return torch.as_tensor(codes.astype(np.int64).reshape(-1))


def standardised(path: Path, features: np.ndarray, names: list[str], labels: torch.Tensor | None) -> ArrayData:
    """ArrayData of raw (N, F) float32 values with shift = column means and scale = 1 / column stds."""
    values = features.astype(np.float32)
    stored = values.astype(np.float64)  # the statistics of the stored float32 values, so inputs() has mean 0 exactly
    mean, std = stored.mean(0), stored.std(0)
    std[np.ptp(stored, axis=0) == 0] = 1.0  # a constant column: its computed std is rounding noise, not spread
    return ArrayData(
        torch.from_numpy(values), labels, str(path),
        shift=torch.as_tensor(mean, dtype=torch.float32), scale=torch.as_tensor(1 / std, dtype=torch.float32),
        columns=names,
    )


def load_table(path: Path, label_name: str = "") -> ArrayData:
    """A CSV file as standardised ArrayData; ``label_name`` names the label column ('' for none)."""
    header, rows, lines = read_rows(path)
    check_header(path, header)
    if label_name and label_name not in header:
        raise UserError(f"{path}: no column {label_name!r} for data.label_column; the columns are {header}")
    check_rows(path, header, rows, lines)
    cells = {name: [row[i] for row in rows] for i, name in enumerate(header)}
    names = [name for name in header if name != label_name]
    if not names:
        raise UserError(f"{path}: no feature columns besides the label column {label_name!r}; add numeric columns")
    features = np.stack([numeric_column(path, name, cells[name], lines) for name in names], axis=1)  # (N, F)
    labels = label_column(path, label_name, cells[label_name], lines) if label_name else None
    return standardised(path, features, names, labels)


@SOURCES.register("csv")
def load_csv_source(argument: str, config) -> Splits:
    """--data FILE.csv (or csv:FILE); data.label_column names the label column; no test split of its own."""
    if not argument:
        raise UserError("--data csv needs a file: --data FILE.csv")
    return Splits(load_table(Path(argument).expanduser(), config.label_column), None)
