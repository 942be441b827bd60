"""Opening old run folders: a folder of the flat 0.1 layout opens, evaluates as it did, samples and resumes."""

import json
import shutil

import pytest
from helpers import DATA

import vaekit
from vaekit.cli import main

OLD_RUN = DATA / "run_v0_1_0"


def test_a_run_folder_of_the_flat_layout_opens_and_evaluates_as_it_did(tmp_path, capsys):
    run_dir = tmp_path / "old-run"
    shutil.copytree(OLD_RUN, run_dir)
    expected = json.loads((run_dir / "expected_eval.json").read_text())
    assert main(["eval", str(run_dir), "--k", str(expected["k"])]) == 0
    result = json.loads((run_dir / "eval.json").read_text())
    for key in ("examples", "split", "active_units", "seed"):
        assert result[key] == expected[key], key
    for key in ("elbo_nats", "log_px_nats", "kl_nats", "log_px_z_nats", "reconstruction_mse"):
        assert result[key] == pytest.approx(expected[key], rel=1e-5, abs=1e-6), key
    assert result["kl_per_dim_nats"] == pytest.approx(expected["kl_per_dim_nats"], rel=1e-5, abs=1e-6)
    model = vaekit.load(run_dir)
    assert tuple(model.sample(3).shape) == (3, 1, 8, 8)
    assert main(["train", "--resume", str(run_dir)]) == 0  # the old resume state continues
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 1 + 2  # its 2 epochs were all it asked for
