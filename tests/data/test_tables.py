"""A CSV table end to end: standardised for the model, stored scaling, rows back in original units."""

import csv

import numpy as np
import pytest
import torch

import vaekit
from vaekit.cli import main
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
    assert main(["reconstruct", str(run), "--n", "300", "--out", str(tmp_path / "recon.png")]) == 0
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
