"""vaekit fit-code-prior on a folder written before 0.2: one fitting, stored through the run folder with
the key val_code_nll_nats, the rest of the stored metadata kept."""

import shutil

import pytest
from helpers import DATA

import vaekit
from vaekit.cli import main
from vaekit.rundir import RunDir

OLD_VQVAE = DATA / "runs_before_0_2" / "vqvae_fsq"


def test_fit_code_prior_stores_the_prior_and_its_held_out_number(tmp_path, capsys):
    run = RunDir(shutil.copytree(OLD_VQVAE, tmp_path / "run"))
    before = run.metadata()
    assert "code_prior" not in before and vaekit.load(run.path).prior is None
    assert main(["fit-code-prior", str(run.path), "--epochs", "1", "--batch-size", "64", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    numbers = run.read_code_prior()
    assert "test_code_nll_nats" not in run.metadata()["code_prior"]
    assert f"{numbers['val_code_nll_nats']:.3f} on the test split" in printed
    assert numbers["epochs"] == 1 and len(numbers["history"]) == 1
    assert numbers["history"][0]["val_code_nll_nats"] == pytest.approx(numbers["val_code_nll_nats"])
    assert run.metadata()["data"] == before["data"]
    assert vaekit.load(run.path).prior is not None and run.figure(RunDir.FIGURES.SAMPLES).stat().st_size > 0


def test_fit_code_prior_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["fit-code-prior", str(tmp_path), "--epochs", "1"]) == 2
    assert capsys.readouterr().err.strip() == (f"vaekit fit-code-prior: error: {tmp_path}: no model.safetensors here; "
                                                "pass a run folder written by 'vaekit train'")
