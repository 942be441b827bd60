"""A CSV table end to end: standardised for the model, stored scaling, rows back in original units."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import data_error

import vaekit
from vaekit.cli import main
from vaekit.config import DataConfig
from vaekit.data import load_data
from vaekit.runs.open import load_units, open_run


@pytest.fixture
def table(tmp_path):
    """300 rows: height (cm), weight (kg), a constant column, and a string label column."""
    rng = np.random.default_rng(0)
    height = rng.normal(170, 10, 300)
    weight = 0.9 * (height - 100) + rng.normal(0, 5, 300)
    path = tmp_path / "people.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["height_cm", "kind", "weight_kg", "year"])
        for h, w in zip(height, weight):
            writer.writerow([f"{h:.2f}", "tall" if h > 170 else "short", f"{w:.2f}", 2026])
    return path, np.stack([height, weight, np.full(300, 2026.0)], 1)


def test_a_csv_run_stores_its_scaling_and_returns_rows_in_original_units(table, tmp_path):
    path, values = table
    config = vaekit.Config().replace(
        model={"hidden": [32], "latent_dim": 2}, train={"epochs": 3, "batch_size": 32},
        data={"label_column": "kind", "val_fraction": 0.0},
    )
    run = vaekit.train(config, data=str(path), out=tmp_path / "run")
    assert run.config.model.likelihood.name == "gaussian"  # 'auto' picked a Gaussian for real values
    x = run.data.train.inputs()
    assert torch.allclose(x[:, :2].mean(0), torch.zeros(2), atol=1e-4)
    assert torch.allclose(x[:, :2].std(0, unbiased=False), torch.ones(2), atol=1e-4)
    units = load_units(run.dir)
    assert units.columns == ["height_cm", "weight_kg", "year"]
    assert np.allclose(units(x).numpy(), values, atol=1e-2)  # the stored scaling inverts the standardisation
    assert set(run.data.train.labels.tolist()) == {0, 1}


def test_reconstruct_writes_table_rows_in_the_data_units(table, tmp_path):
    path, values = table
    run = tmp_path / "run"
    assert main(["train", "--data", str(path), "--label-column", "kind", "--epochs", "30", "--batch-size", "32",
                 "--latent-dim", "2", "--set", "model.hidden=[32]", "--out", str(run)]) == 0
    assert main(["reconstruct", str(run), "--n", "30", "--out", str(tmp_path / "recon.png")]) == 0  # the whole validation split
    rows = list(csv.reader(open(tmp_path / "recon.csv")))
    assert rows[0] == ["height_cm", "weight_kg", "year"]
    recon = np.array(rows[1:], float)
    assert abs(recon[:, 0].mean() - 170) < 5 and abs(recon[:, 1].mean() - 63) < 6  # kilograms, not z-scores
    assert np.allclose(recon[:, 2], 2026, atol=1.0)  # the constant column comes back as its constant


def test_interpolate_from_a_row_file_in_the_table_units_matches_the_same_rows_by_index(table, tmp_path):
    """A row saved in the table's units (cm, kg) goes into the model standardised, as in training:
    the latent path equals the one between the same rows picked from the evaluation split."""
    path, _ = table
    run = tmp_path / "run"
    assert main(["train", "--data", str(path), "--label-column", "kind", "--epochs", "2", "--batch-size", "32",
                 "--latent-dim", "2", "--set", "model.hidden=[16]", "--out", str(run)]) == 0
    opened = open_run(run, "cpu")
    units = load_units(run)
    rows = units(opened.data.inputs(slice(0, 2)))  # (2, 3) in cm, kg, year
    assert rows[:, 0].mean() > 100  # the files hold centimetres, not z-scores
    np.save(tmp_path / "a.npy", rows[0].numpy())
    np.save(tmp_path / "b.npy", rows[1].numpy())
    by_index, from_files = tmp_path / "index.png", tmp_path / "files.png"
    assert main(["interpolate", str(run), "--from", "0", "--to", "1", "--steps", "4", "--out", str(by_index)]) == 0
    assert main(["interpolate", str(run), "--from-file", str(tmp_path / "a.npy"), "--to-file", str(tmp_path / "b.npy"),
                 "--steps", "4", "--out", str(from_files)]) == 0
    with np.load(by_index.with_suffix(".npz")) as expected, np.load(from_files.with_suffix(".npz")) as got:
        np.testing.assert_allclose(got["endpoints"], expected["endpoints"], atol=1e-4)
        np.testing.assert_allclose(got["z_linear"], expected["z_linear"], atol=1e-4)


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    path.write_text("\n".join(",".join(map(str, row)) for row in [header, *rows]) + "\n")
    return path


def test_csv_standardises_features_and_decodes_to_original_units(tmp_path):
    rng = np.random.default_rng(11)
    table = np.column_stack([rng.normal(50, 10, 40), rng.uniform(-3, 0, 40), np.full(40, 7.0)])  # last: constant
    kinds = rng.choice(["owl", "cat", "emu"], 40)
    rows = [[*map(repr, row), kind] for row, kind in zip(table.tolist(), kinds)]
    path = write_csv(tmp_path / "t.csv", ["height", "depth", "flat", "kind"], rows)

    data = load_data(str(path), DataConfig(label_column="kind")).train
    inputs = data.inputs()

    assert data.columns == ["height", "depth", "flat"]
    assert torch.allclose(data.decode_units(inputs).double(), torch.from_numpy(table), rtol=1e-5, atol=1e-4)
    assert torch.allclose(inputs[:, :2].mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(inputs[:, :2].std(0, unbiased=False), torch.ones(2), atol=1e-5)
    assert torch.equal(inputs[:, 2], torch.zeros(40))  # constant column: centred, not blown up
    names = sorted(set(kinds))
    assert data.labels.tolist() == [names.index(kind) for kind in kinds]


def test_csv_integer_labels_are_kept_and_no_label_column_means_no_labels(tmp_path):
    path = write_csv(tmp_path / "t.csv", ["label", "a"], [[7, 1.5], [3, 2.5], [7, 0.5]])
    assert load_data(str(path), DataConfig(label_column="label")).train.labels.tolist() == [7, 3, 7]
    unlabelled = load_data(str(path), DataConfig()).train
    assert unlabelled.labels is None and unlabelled.columns == ["label", "a"]


def csv_file(tmp_path: Path, text: str) -> str:
    (tmp_path / "table.csv").write_text(text)
    return str(tmp_path / "table.csv")


def test_csv_non_numeric_column_suggests_the_label_column(tmp_path):
    text = data_error(csv_file(tmp_path, "size,colour\n1.5,red\n2.0,blue\n"))
    assert "table.csv" in text and "'colour' is not numeric" in text and "'red'" in text
    assert "data.label_column=colour" in text


@pytest.mark.parametrize(
    "cell, phrase", [("", "missing value"), ("NA", "missing value"), ("nan", "NaN or Inf"), ("-inf", "NaN or Inf")]
)
def test_csv_missing_or_non_finite_value_names_column_and_line(tmp_path, cell, phrase):
    text = data_error(csv_file(tmp_path, f"a,b\n1,2\n3,4\n5,{cell}\n"))
    assert "table.csv" in text and phrase in text and "'b'" in text and "line 4" in text


def test_csv_without_header_row(tmp_path):
    text = data_error(csv_file(tmp_path, "1,2\n3,4\n"))
    assert "table.csv" in text and "header row is required" in text


def test_csv_unknown_label_column_lists_the_columns(tmp_path):
    text = data_error(csv_file(tmp_path, "a,b\n1,2\n"), label_column="class")
    assert "table.csv" in text and "'class'" in text and "['a', 'b']" in text


def test_csv_ragged_row(tmp_path):
    text = data_error(csv_file(tmp_path, "a,b\n1,2\n3\n"))
    assert "table.csv" in text and "line 3 has 1 fields" in text
