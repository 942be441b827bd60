"""--resume RUN --epochs M with a new learning rate or schedule (vaekit.runs.train.continued_schedule):
the change takes effect from the resume point, is recorded in run.json's history, and every other
setting stays refused."""

import json
import shutil

import pytest
import yaml
from helpers import cli_error, read_metrics

import vaekit
from vaekit.cli import main
from vaekit.training.checkpoint import load_tensors


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished run of 2 epochs at lr 1e-3 (constant), trained once."""
    config = vaekit.Config().replace(model={"trunk": {"hidden": [16]}, "latent_dim": 2},
                                     train={"epochs": 2, "batch_size": 128, "lr": 1e-3, "report": False})
    return vaekit.train(config, out=tmp_path_factory.mktemp("resume") / "run").dir


@pytest.fixture
def two_epochs(trained, tmp_path):
    """A copy of ``trained`` for one test to extend."""
    return shutil.copytree(trained, tmp_path / "run")


def optimiser_lrs(run) -> list[float]:
    _, metadata = load_tensors(run / "last.safetensors")
    return [group["lr"] for group in metadata["optimizer_param_groups"]]


def test_a_finished_run_continues_at_a_new_learning_rate_and_records_it(two_epochs):
    before = read_metrics(two_epochs)
    assert main(["train", "--resume", str(two_epochs), "--epochs", "4", "--set", "train.lr=1e-4"]) == 0
    assert optimiser_lrs(two_epochs) == [1e-4]
    assert yaml.safe_load((two_epochs / "config.yaml").read_text())["train"]["lr"] == 1e-4
    history = json.loads((two_epochs / "run.json").read_text())["history"]
    assert len(history) == 1 and history[0]["resumed_at_epoch"] == 2
    assert history[0]["changed"] == {"epochs": [2, 4], "lr": [1e-3, 1e-4]}
    after = read_metrics(two_epochs)
    assert len(after) == 4 and after[:2] == before  # the first two epochs' rows are kept as they were


def test_a_new_cosine_schedule_runs_over_the_remaining_epochs(two_epochs):
    run = vaekit.train(resume=two_epochs, epochs=5, lr=2e-3, assignments=["train.lr_schedule=cosine"])
    assert run.state.epoch == 5
    # a fresh cosine over the 3 remaining epochs from 2e-3: after 3 steps of T_max = 3 it reaches 0
    assert optimiser_lrs(two_epochs)[0] == pytest.approx(0.0, abs=1e-12)
    history = json.loads((two_epochs / "run.json").read_text())["history"]
    assert history[-1]["changed"] == {"epochs": [2, 5], "lr": [1e-3, 2e-3], "lr_schedule": ["constant", "cosine"]}


def test_a_plain_extension_keeps_the_restored_learning_rate(two_epochs):
    vaekit.train(resume=two_epochs, epochs=3)
    assert optimiser_lrs(two_epochs) == [1e-3]
    assert json.loads((two_epochs / "run.json").read_text())["history"][0]["changed"] == {"epochs": [2, 3]}


@pytest.mark.parametrize("setting", ["model.latent_dim=3", "train.batch_size=32", "objective.beta=4"])
def test_other_settings_are_refused_on_resume_and_nothing_changes(two_epochs, capsys, setting):
    files = {name: (two_epochs / name).read_bytes() for name in ("config.yaml", "run.json", "metrics.csv")}
    cli_error(["train", "--resume", str(two_epochs), "--epochs", "4", "--set", "train.lr=1e-4", "--set", setting],
              capsys, rf"may change only train.lr, train.lr_schedule \(--set\) and --epochs; drop --set {setting}$")
    assert {name: (two_epochs / name).read_bytes() for name in files} == files
