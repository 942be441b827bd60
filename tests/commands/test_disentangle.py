"""vaekit disentangle, the eval metrics and the report section on a run trained on data with factors."""

import json

import numpy as np
import pytest

from vaekit.cli import main
from vaekit.disentanglement import FAST
from vaekit.evaluation.metrics import metrics
from vaekit.figures.names import DISENTANGLEMENT_FIGURES, FIGURES


def squares(path, repeats=16, with_factors=True, size=8):
    """A 3x3 square at column x and row y (4 values each) on a size x size image; each combination
    ``repeats`` times, so every value of a factor has 4 * repeats rows."""
    codes = np.stack(np.unravel_index(np.arange(16), (4, 4)), 1)
    images = np.zeros((16, size, size), np.uint8)
    for i, (x, y) in enumerate(codes):
        images[i, y:y + 3, x:x + 3] = 255
    arrays = {"x": np.tile(images, (repeats, 1, 1))}
    if with_factors:
        arrays.update(factors=np.tile(codes, (repeats, 1)), factor_names=np.array(["column", "row"]))
    np.savez(path, **arrays)
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("disentangle")
    data = squares(folder / "squares.npz")
    assert main(["train", "--data", str(data), "--epochs", "2", "--out", str(folder / "run"),
                 "--set", "model.latent_dim=3", "--set", "model.hidden=[32]", "--set", "data.validation=none"]) == 0
    return folder


def test_disentangle_writes_every_metric_its_settings_and_the_figures(run, capsys):
    assert main(["disentangle", str(run / "run"), "--fast", "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    results = json.loads((run / "run" / "disentanglement.json").read_text())
    for metric in metrics("disentanglement"):  # every registered one: D = 3 codes, K = 2 factors serve them all
        if metric.name.startswith("transfer_"):
            continue  # these need --transfer-to (below)
        assert metric.name in results and np.isfinite(results[metric.name]), metric.name
    assert results["seed"] == 3 and results["fast"] is True and results["settings"] == json.loads(json.dumps(FAST))
    assert results["factor_names"] == ["column", "row"] and results["representation"] == "posterior mean"
    assert np.asarray(results["mutual_information_nats"]).shape == (3, 2)
    assert np.asarray(results["dci_importance"]).shape == (3, 2)
    assert 0 < results["samples"]["encoded_examples"] <= results["samples"]["data_examples"] == 256
    assert results["seconds"]["total"] > 0 and "dci" in results["seconds"]
    for name in DISENTANGLEMENT_FIGURES:
        assert (run / "run" / "disentanglement" / FIGURES[name].file).stat().st_size > 1000
    assert "mig" in printed and "disentanglement.json" in printed


def test_eval_and_the_report_add_the_fast_metrics_for_data_with_factors(run):
    results = json.loads((run / "run" / "eval.json").read_text())
    assert results["disentanglement_settings"] == "fast" and 0 <= results["mig"] <= 1
    page = (run / "run" / "report.html").read_text()
    assert "<h2 id='s" in page and "Disentanglement</h2>" in page and "MIG" in page
    assert (run / "run" / "report" / "mutual_information.png").is_file()


def test_disentangle_bad_inputs_exit_2_with_one_line(run, capsys, tmp_path):
    plain = squares(tmp_path / "plain.npz", with_factors=False)
    wrong = squares(tmp_path / "wrong.npz", size=10)
    few = squares(tmp_path / "few.npz", repeats=8)
    cases = [
        (["disentangle", str(plain)], "no model.safetensors"),
        (["disentangle", str(run / "run"), "--data", str(plain)], "no ground-truth factors"),
        (["disentangle", str(run / "run"), "--data", str(wrong)], "do not fit this model's shape"),
    (["disentangle", str(run / "run"), "--data", str(few)], "has only 32 row(s) with code 0, fewer than the batch of 64"),
    ]
    for arguments, fragment in cases:
        assert main(arguments) == 2
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and fragment in err


def test_transfer_to_the_same_drawing_scores_the_target_as_the_source(run, capsys):
    twin = squares(run / "twin.npz")  # the run's own data again: the probes must read it identically
    assert main(["disentangle", str(run / "run"), "--fast", "--transfer-to", str(twin)]) == 0
    results = json.loads((run / "run" / "disentanglement.json").read_text())
    assert 0 < results["transfer_source_accuracy"] <= 1
    assert results["transfer_target_accuracy"] == results["transfer_source_accuracy"]
    assert results["transfer"]["num_train"] == FAST["num_train"] and "twin.npz" in results["transfer"]["target"]
    assert "transfer_target_accuracy" in capsys.readouterr().out


def test_transfer_to_data_with_other_factors_exits_2_and_writes_nothing(run, capsys, tmp_path):
    other = tmp_path / "other.npz"
    arrays = dict(np.load(squares(tmp_path / "base.npz")))
    np.savez(other, **{**arrays, "factor_names": np.array(["left", "down"])})
    before = (run / "run" / "disentanglement.json").read_bytes()
    assert main(["disentangle", str(run / "run"), "--fast", "--transfer-to", str(other)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert f"--transfer-to {other}: factors ['left', 'down'] of sizes [4, 4] differ from the run's" in err
    assert (run / "run" / "disentanglement.json").read_bytes() == before
