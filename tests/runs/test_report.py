"""vaekit.runs.report: the report shows eval.json's tightest estimate and names its K; a resumed training's
own evaluation at its end keeps the importance-sampled one made before it."""

import html
import json
import re
from pathlib import Path

import pytest
from helpers import copy_of_run, tiny_config

import vaekit
from vaekit.cli import main
from vaekit.rundir import RunDir

@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A tiny run whose training ends with its report (and its k = 0 evaluation)."""
    return vaekit.train(tiny_config(report=True), out=tmp_path_factory.mktemp("report") / "run").dir


@pytest.fixture
def run(finished, tmp_path) -> Path:
    return copy_of_run(finished, tmp_path)


def estimate(run: Path) -> str:
    """The report summary's 'estimate' row."""
    return html.unescape(re.search(r"<th>estimate</th><td>([^<]*)</td>", (run / RunDir.REPORT).read_text()).group(1))


def quietly(arguments: list[str], capsys) -> None:
    assert main(arguments) == 0, capsys.readouterr().err
    capsys.readouterr()


def test_the_report_shows_the_tightest_estimate_and_says_which_k(run, capsys):
    assert estimate(run) == "the ELBO only (K = 0), 359 examples of the test split"
    quietly(["eval", str(run), "--k", "6"], capsys)
    quietly(["eval", str(run), "--k", "2"], capsys)
    quietly(["report", str(run)], capsys)
    assert estimate(run) == ("log p(x) with K = 6 importance samples, 359 examples of the test split; the tightest "
                             "of this model's evaluations (K = 0, 2, 6)")
    assert f"{json.loads((run / RunDir.EVALUATION).read_text())['nll_nats']:.4f}" in (run / RunDir.REPORT).read_text()


def test_a_resumed_training_keeps_the_k_sample_evaluation_made_before_it(run, capsys):
    quietly(["eval", str(run), "--k", "6"], capsys)
    before = json.loads((run / RunDir.EVALUATION).read_text())
    weights = RunDir(run).weights_id()
    quietly(["train", "--resume", str(run), "--epochs", "2"], capsys)
    after = json.loads((run / RunDir.EVALUATION).read_text())
    setting = "k=6 n=359 digits test"
    assert after[RunDir.EVALUATIONS][setting] == before[RunDir.EVALUATIONS][setting]  # the same numbers, kept
    if RunDir(run).weights_id() == weights:  # epoch 2 did not improve: the best weights are those evaluated
        assert after["k"] == 6 and after["nll_nats"] == before["nll_nats"]
    else:  # new best weights: their own (k = 0) evaluation heads the file, the earlier one is named
        assert after["k"] == 0 and after[RunDir.WEIGHTS_ID] == RunDir(run).weights_id()
        assert estimate(run).endswith("; eval.json also keeps K = 6 of earlier weights")
