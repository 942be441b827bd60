"""'vaekit eval' end to end: eval.json holds the likelihood, the latent diagnostics and the probe,
with sensible values, and the printed table shows what the file holds."""

import contextlib
import io
import json
import math
import re

import pytest

from vaekit import Config, train
from vaekit.cli import main
from vaekit.rundir import RunDir

LATENT = 4
BOOKKEEPING = {RunDir.EVALUATIONS, RunDir.WEIGHTS_ID}  # eval.json's, not an evaluation's: every one kept, the weights
NEW_KEYS = {
    "active_units", "active_unit_threshold", "posterior_mean_variance", "kl_per_dim_nats", "reconstruction_mse",
    "psnr_db", "probe_accuracy", "raw_probe_accuracy", "chance_accuracy", "probe_train_examples",
    "probe_test_examples", "likelihood_seconds", "seconds",
}


def trained(tmp_path_factory, name: str, epochs: int):
    config = Config().replace(
        model={"name": name, "hidden": [32], "latent_dim": LATENT}, train={"epochs": epochs, "batch_size": 64}
    )
    return train(config, data="digits", out=tmp_path_factory.mktemp(name) / "run").dir


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    return trained(tmp_path_factory, "vae", epochs=6)


@pytest.fixture(scope="module")
def evaluated(vae_run):
    """(eval.json, printed table) of 'vaekit eval RUN --k 5' on a digits VAE."""
    run_dir = vae_run
    printed = io.StringIO()  # capsys is per test; a module fixture captures by redirection
    with contextlib.redirect_stdout(printed):
        assert main(["eval", str(run_dir), "--k", "5"]) == 0
    return json.loads((run_dir / "eval.json").read_text()), printed.getvalue()


def test_eval_json_has_every_new_key_with_sensible_values(evaluated):
    results, _ = evaluated
    assert NEW_KEYS <= set(results)
    assert 0 <= results["active_units"] <= LATENT
    assert results["active_unit_threshold"] == 0.01
    variance = results["posterior_mean_variance"]
    assert len(variance) == LATENT and min(variance) >= 0
    assert results["active_units"] == sum(v > 0.01 for v in variance)
    kl = results["kl_per_dim_nats"]
    assert len(kl) == LATENT and min(kl) >= 0
    assert sum(kl) == pytest.approx(results["kl_nats"], rel=1e-6)
    for key in ("probe_accuracy", "raw_probe_accuracy", "chance_accuracy"):
        assert 0 <= results[key] <= 1, key
    assert results["probe_accuracy"] > results["chance_accuracy"]
    assert results["probe_test_examples"] == results["examples"] == 359
    assert 0 < results["reconstruction_mse"] < 1  # binary inputs, reconstructions in (0, 1)
    assert results["psnr_db"] == pytest.approx(10 * math.log10(1 / results["reconstruction_mse"]))
    assert results["seconds"] >= results["likelihood_seconds"] > 0
    assert results["split"] == "test" and results["data"] == "digits" and results["k"] == 5


def test_printed_table_matches_the_file(evaluated):
    results, printed = evaluated
    lines = dict(re.match(r"(\S+)\s+(.*)$", line).groups() for line in printed.splitlines() if not line.startswith("written"))
    assert set(lines) == set(results) - BOOKKEEPING
    results = {key: value for key, value in results.items() if key not in BOOKKEEPING}
    for key, value in results.items():
        if isinstance(value, list):
            shown = f"{len(value)} values, largest first: " + " ".join(f"{v:.3g}" for v in sorted(value, reverse=True))
            assert lines[key] == shown, key
        elif isinstance(value, float):
            assert lines[key] == f"{value:.4f}", key
        else:
            assert lines[key] == str(value), key


def test_autoencoder_eval_reports_active_units_without_kl_or_elbo(tmp_path_factory, capsys):
    run_dir = trained(tmp_path_factory, "ae", epochs=2)
    assert main(["eval", str(run_dir)]) == 0
    results = json.loads((run_dir / "eval.json").read_text())
    assert "kl_per_dim_nats" not in results and "elbo_nats" not in results
    assert len(results["posterior_mean_variance"]) == LATENT
    assert 0 <= results["active_units"] <= LATENT
    assert 0 <= results["probe_accuracy"] <= 1
    assert "active_units" in capsys.readouterr().out


def test_examples_scores_the_first_n_examples_of_the_split(vae_run, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    for name in ("model.safetensors", "config.yaml", "run.json"):
        (out / name).write_bytes((vae_run / name).read_bytes())
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["eval", str(out), "--k", "5", "--examples", "50"]) == 0
    results = json.loads((out / "eval.json").read_text())
    assert results["examples"] == results["probe_test_examples"] == 50


@pytest.mark.parametrize(("examples", "message"), [
    ("0", "argument --examples: must be an integer at least 1, got '0'"),  # refused by its range, before any work
    ("360", "--examples must be between 1 and the 359 examples of the test split"),  # once the split is known
])
def test_examples_outside_the_split_is_a_clear_error(vae_run, examples, message, capsys):
    assert main(["eval", str(vae_run), "--examples", examples]) == 2
    assert message in capsys.readouterr().err


def test_every_number_of_eval_json_is_a_registered_metric_and_the_table_shows_them_first(evaluated):
    from vaekit.evaluation.metrics import METRICS

    results, printed = evaluated
    settings = {"k", "seed", "examples", "split", "data", "binarize", "seconds", "likelihood_seconds", *BOOKKEEPING}
    registered = [key for metric in METRICS.values() for key in metric.keys(results)]
    assert set(results) - settings == set(registered)
    shown = [line.split()[0] for line in printed.splitlines() if not line.startswith("written")]
    assert shown[:len(registered)] == registered  # the registry's order, then the settings


def test_a_looser_eval_is_kept_beside_the_tighter_one_which_stays_the_headline(vae_run, tmp_path, capsys):
    out = tmp_path / "run"
    for name in ("model.safetensors", "config.yaml", "run.json"):
        (out / name).parent.mkdir(exist_ok=True)
        (out / name).write_bytes((vae_run / name).read_bytes())
    assert main(["eval", str(out), "--k", "8", "--examples", "40"]) == 0
    tight = json.loads((out / "eval.json").read_text())
    assert main(["eval", str(out), "--k", "2", "--examples", "40"]) == 0
    assert capsys.readouterr().out.endswith(f"written: {out / 'eval.json'} (this evaluation under 'evaluations'; "
                                            "the headline stays the tighter one with K = 8 on 40 examples)\n")
    kept = json.loads((out / "eval.json").read_text())
    assert kept["k"] == 8 and kept["nll_nats"] == tight["nll_nats"]
    assert kept["evaluations"]["k=2 n=40 digits test"]["nll_nats"] >= kept["nll_nats"]  # the looser bound, kept too
