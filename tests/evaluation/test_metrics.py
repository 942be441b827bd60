"""The metric registry drives eval.json's and disentanglement.json's keys, the command line's tables and
the report's rows: a metric registered here, in the test, shows up in all of them, and goes again."""

import argparse
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import DATA

from vaekit.commands.disentangle import Disentangle
from vaekit.commands.evaluate import print_table
from vaekit.data.array import ArrayData
from vaekit.data.factors import factor_info
from vaekit.evaluation.disentanglement import suite
from vaekit.evaluation.metrics import METRICS, Metric, format_value, formatted_results, metrics, register_metric
from vaekit.figures import report as figures_report
from vaekit.figures.report import ReportContext, disentanglement_section
from vaekit.runs import disentangle as runs_disentangle
from vaekit.runs.report import report_rows

SIZES = (2, 3)
TINY = {"num_train": 200, "num_test": 100, "num_bins": 20, "sap_C": 0.01,
        "beta_vae": {"batch_size": 8, "num_train": 40, "num_eval": 20},
        "factor_vae": {"batch_size": 8, "num_train": 40, "num_eval": 20, "num_variance_estimate": 100,
                       "prune_threshold": 0.05},
        "mig_chen": {"num_examples": 0, "num_samples": 100}}
OLD_EVAL = DATA / "run_v0_1_0" / "expected_eval.json"
SETTINGS = {"k", "seed", "examples", "split", "data", "binarize", "seconds", "likelihood_seconds",
            "disentanglement_settings", "disentanglement_seconds", "disentanglement_left_out"}


def factor_set(sizes=SIZES) -> ArrayData:
    """Every combination of the factors once; the inputs are the factor codes themselves."""
    codes = np.stack(np.unravel_index(np.arange(int(np.prod(sizes))), sizes), 1)
    info = factor_info(codes, [f"f{k}" for k in range(len(sizes))])
    return ArrayData(torch.from_numpy(codes).float(), None, "toy", factors=torch.from_numpy(codes), factor_info=info)


def codes_of(x: torch.Tensor) -> np.ndarray:
    """An 'encoder': the factor codes with a small fixed wobble, so no code dimension is constant."""
    x = x.numpy().astype(np.float64)
    return x + 0.01 * np.sin(x @ np.array([12.9898, 78.233]))[:, None]


@pytest.fixture
def tiny_suite(monkeypatch):
    """The suite with tiny sample counts for both --fast and the full run."""
    monkeypatch.setattr(suite, "FAST", TINY)
    monkeypatch.setattr(suite, "DEFAULTS", TINY)


@pytest.fixture
def toy_metric():
    """A disentanglement metric defined and registered by this test: 0.25 plus the sample's width."""
    metric = register_metric(Metric("toy_score", "toy score", "disentanglement", order="higher_is_better",
                                    compute=lambda sample: {"toy_score": 0.25 + sample.dims}))
    yield metric
    METRICS.unregister("toy_score")
    assert "toy_score" not in METRICS


def test_a_registered_metric_reaches_the_json_the_tables_and_the_report(toy_metric, tiny_suite, monkeypatch, capsys,
                                                                        tmp_path):
    scores = runs_disentangle.evaluation_scores(codes_of, factor_set())  # eval.json's disentanglement keys
    assert scores["toy_score"] == 2.25 and scores["disentanglement_settings"] == "fast"

    results = {**scores, "elbo_nats": -12.345678, "seed": 0}
    print_table(results)  # vaekit eval's table
    lines = dict(re.match(r"(\S+)\s+(.*)$", line).groups() for line in capsys.readouterr().out.splitlines())
    assert lines["toy_score"] == "2.2500" and lines["elbo_nats"] == "-12.3457"

    disentangled = {**scores, "seconds": {"total": 1.0}, "figures": []}
    monkeypatch.setattr(runs_disentangle, "disentangle_run", lambda *args: disentangled)
    (tmp_path / "model.safetensors").touch()  # a run folder as the command's destination check sees one
    args = argparse.Namespace(run_dir=str(tmp_path), data=None, fast=True, seed=0, device="cpu", transfer_to=None)
    assert Disentangle.run(args) == 0  # vaekit disentangle's table
    printed = capsys.readouterr().out
    assert re.search(r"^toy_score\s+2\.2500$", printed, re.M) and re.search(r"^mig\s+\d\.\d{4}$", printed, re.M)

    rows = report_rows(results)  # the report's rows, and the page's section
    assert ("toy score", "2.2500") in rows["disentanglement"]
    assert ("MIG", format_value(results["mig"])) in rows["disentanglement"]
    section = disentanglement_section(ReportContext(Path("RUN"), None, results, [], rows))
    assert "<th>toy score</th><td>2.2500</td>" in section.body


def test_without_the_registration_the_metric_is_nowhere(tiny_suite):
    scores = runs_disentangle.evaluation_scores(codes_of, factor_set())
    assert "toy_score" not in scores and "toy_score" not in dict(formatted_results(scores))
    assert all(label != "toy score" for label, _ in report_rows(scores)["disentanglement"])


def test_fast_runs_only_the_fast_cost_class(tiny_suite):
    register_metric(Metric("slow_toy", "slow toy", "disentanglement", cost="default",
                           compute=lambda sample: {"slow_toy": 1.0}))
    try:
        fast = suite.disentanglement_metrics(codes_of, factor_set(), fast=True)
        full = suite.disentanglement_metrics(codes_of, factor_set(), fast=False)
    finally:
        METRICS.unregister("slow_toy")
    assert "slow_toy" not in fast and full["slow_toy"] == 1.0
    needs_more = {"mig_chen": "a model's posterior", "transfer_source_accuracy": "--transfer-to",
                  "transfer_target_accuracy": "--transfer-to"}  # not computable from an encode function alone
    assert {m.name for m in metrics("disentanglement", ("fast",))} - set(needs_more) <= set(fast)  # (D = K = 2)


def test_the_report_summary_shows_the_headline_metrics_by_label():
    results = {"elbo_nats": -80.123456, "nll_nats": 79.5, "active_units": 7, "probe_accuracy": 0.9, "kl_nats": 3.0,
               "k": 100, "examples": 50, "split": "test"}
    rows = report_rows(results)
    assert rows["summary"] == [("estimate", "log p(x) with K = 100 importance samples, 50 examples of the test split"),
                               ("ELBO, nats per example", "-80.1235"), ("NLL, nats per example", "79.5000"),
                               ("active units", "7"), ("linear probe accuracy", "0.9000")]
    assert ("kl_nats", "3.0000") in rows["evaluation"]  # every scalar by its key in the Evaluation section


def test_one_format_for_tables_and_the_report():
    assert format_value(0.123456) == "0.1235" and format_value(3) == "3" and format_value("digits") == "digits"
    assert format_value(12.3456, Metric("p", "p", "codebook", format=".2f")) == "12.35"
    assert format_value([1.0, 3.0, 2.0]) == "3 values, largest first: 3 2 1"
    assert format_value([[1, 2], [5]]) == "[2 values, largest first: 2 1]; [1 values, largest first: 5]"
    assert format_value(list(range(10))).endswith("9 8 7 6 5 4 3 2 ... (all in eval.json)")
    assert not hasattr(figures_report, "format_value") and not hasattr(figures_report, "figure_png")


def test_numbered_codebook_keys_belong_to_their_metric_and_keep_the_number():
    usage = METRICS.get("codebook_usage")
    results = {"codebook1_usage": 0.5, "codebook2_usage": 0.25, "codebook_perplexity": 3.0, "elbo_nats": 1.0}
    assert usage.keys(results) == ["codebook1_usage", "codebook2_usage"]
    assert usage.keys({"codebook_usage": 1.0}) == ["codebook_usage"]
    rows = dict(report_rows(results)["evaluation"])
    assert list(rows)[:3] == ["elbo_nats", "codebook1_usage", "codebook2_usage"]  # registration order


def test_a_metric_with_an_unknown_section_cost_or_order_is_refused():
    with pytest.raises(ValueError, match="section 'nope' is not one of"):
        Metric("x", "x", "nope")
    with pytest.raises(ValueError, match="cost 'slow' is not one of 'fast', 'default'"):
        Metric("x", "x", "latent", cost="slow")
    ood = Metric("x", "x", "ood", order="higher_is_anomalous")  # the coming out-of-distribution scores
    assert ood.section == "ood" and ood.order == "higher_is_anomalous"
    with pytest.raises(ValueError, match="already registered"):
        register_metric(Metric("mig", "MIG again", "disentanglement"))


def test_every_number_an_old_eval_json_holds_is_a_registered_metric_or_a_setting():
    results = json.loads(OLD_EVAL.read_text())
    registered = {key for metric in METRICS.values() for key in metric.keys(results)}
    unknown = {key for key in results if key not in SETTINGS} - registered
    assert unknown == set()
