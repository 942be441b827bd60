"""Per-example terms and 'vaekit score': one row per example, and an obvious anomaly ranks first."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import cli_error, read_csv
from sklearn.datasets import load_digits

from vaekit import Config, train
from vaekit.cli import main
from vaekit.evaluation.likelihood import evaluate, mean_terms, per_example_terms
from vaekit.rundir import RunDir
from vaekit.runs.open import open_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A digits VAE (MLP [32], z = 4, 6 epochs)."""
    config = Config().replace(model={"hidden": [32], "latent_dim": 4}, train={"epochs": 6, "batch_size": 64})
    return train(config, data="digits", out=tmp_path_factory.mktemp("score") / "run").dir


def test_per_example_terms_average_to_mean_terms_and_evaluate(run_dir):
    opened = open_run(run_dir, "cpu")
    model, data = opened.model, opened.data
    terms = per_example_terms(model, data, k=3, batch_size=50, seed=5)
    assert set(terms) == {"elbo", "log_px_z", "kl", "log_px"}
    for values in terms.values():
        assert values.shape == (len(data),) and values.dtype == torch.float64
    assert torch.allclose(terms["elbo"], terms["log_px_z"] - terms["kl"])
    means = mean_terms(model, data, k=3, batch_size=50, seed=5)
    assert means == pytest.approx({name: float(values.mean()) for name, values in terms.items()}, rel=1e-12)
    reported = evaluate(model, data, k=3, batch_size=50, seed=5)
    assert reported["elbo_nats"] == pytest.approx(means["elbo"], rel=1e-12)
    assert reported["nll_nats"] == pytest.approx(-means["log_px"], rel=1e-12)
    other_seed = per_example_terms(model, data, k=3, batch_size=50, seed=6)
    assert not torch.equal(other_seed["elbo"], terms["elbo"])  # the seed reaches the draws


def test_score_writes_one_row_per_test_example_with_labels(run_dir, capsys):
    assert main(["score", str(run_dir)]) == 0
    rows = read_csv(run_dir / "scores.csv")
    opened = open_run(run_dir, "cpu")
    assert len(rows) == len(opened.data)
    assert list(rows[0]) == ["index", "label", "negative_elbo_nats", "combined_score"]  # the corrected score ranks
    assert [int(row["index"]) for row in rows] == list(range(len(rows)))
    assert [int(row["label"]) for row in rows] == opened.data.labels.tolist()
    printed = capsys.readouterr().out
    assert str(run_dir / "scores.csv") in printed
    scores = np.array([float(row["combined_score"]) for row in rows])
    top = ", ".join(str(i) for i in np.argsort(-scores, kind="stable")[:5])
    assert f"indices {top}" in printed


def test_an_inverted_digit_appended_to_a_npy_file_scores_highest(run_dir, tmp_path, capsys):
    images = load_digits().images[:150] / 16.0  # (150, 8, 8) grey levels in [0, 1]
    inverted = 1.0 - images[7:8]  # white strokes on a black page become black on white
    path = tmp_path / "with_anomaly.npy"
    np.save(path, np.concatenate([images, inverted]).astype(np.float32))
    out = tmp_path / "scores.csv"
    assert main(["score", str(run_dir), "--data", str(path), "--k", "10", "--method", "input_complexity",
                 "--out", str(out)]) == 0
    rows = read_csv(out)
    assert len(rows) == 151
    assert list(rows[0]) == ["index", "negative_elbo_nats", "nll_nats", "input_complexity_score"]  # a .npy file has no labels
    for column in ("negative_elbo_nats", "nll_nats"):
        scores = [float(row[column]) for row in rows]
        assert int(np.argmax(scores)) == 150, column
    complexity = np.array([float(row["input_complexity_score"]) for row in rows])
    assert (complexity > complexity[150]).sum() < 15  # in the top tenth; on 8 x 8 images the PNG lengths vary more than the NLLs
    top = ", ".join(str(i) for i in np.argsort(-complexity, kind="stable")[:5])
    assert f"highest input_complexity_score: indices {top}" in capsys.readouterr().out


def test_method_chooses_the_ranking_column(run_dir, tmp_path, capsys):
    out = tmp_path / "scores.csv"
    assert main(["score", str(run_dir), "--method", "reconstruction", "--k", "5", "--out", str(out)]) == 0
    rows = read_csv(out)
    assert list(rows[0])[-1] == "reconstruction_score"
    scores = np.array([float(row["reconstruction_score"]) for row in rows])
    assert f"highest reconstruction_score: indices {int(np.argmax(scores))}," in capsys.readouterr().out


def test_a_batch_test_is_not_a_column(run_dir, tmp_path, capsys):
    from helpers import cli_error

    out = tmp_path / "scores.csv"
    cli_error(["score", str(run_dir), "--method", "typicality", "--out", str(out)], capsys,
              "--method typicality: scores batches of examples, not each example; use typicality_example")
    assert not out.exists()


@pytest.mark.parametrize("suffix", [".csv", ".npy"])
def test_data_of_the_wrong_width_names_both_shapes_whatever_the_file(run_dir, suffix, tmp_path, capsys):
    rows = np.random.default_rng(0).normal(size=(20, 10))
    path = tmp_path / f"table{suffix}"
    if suffix == ".csv":
        path.write_text(",".join(f"c{i}" for i in range(10)) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    else:
        np.save(path, rows.astype(np.float32))
    error = cli_error(["score", str(run_dir), "--data", str(path), "--out", str(tmp_path / "s.csv")], capsys,
                      rf"{path}: examples of shape \(10,\) do not fit this model's shape \(1, 8, 8\)$")
    assert "binaris" not in error and "--likelihood" not in error


@pytest.mark.parametrize("command", [["score"], ["eval", "--examples", "20"], ["encode"], ["interpolate"]])
def test_every_command_opens_a_run_folder_without_config_yaml_from_its_weights(run_dir, command, tmp_path, capsys):
    copy = tmp_path / "run"
    copy.mkdir()
    shutil.copy(Path(run_dir) / RunDir.WEIGHTS, copy)
    out = [] if command[0] == "eval" else ["--out", str(tmp_path / ("out.npz" if command[0] == "encode" else "out.png"
                                                                    if command[0] == "interpolate" else "out.csv"))]
    assert main([command[0], str(copy), *command[1:], *out]) == 0, capsys.readouterr().err
