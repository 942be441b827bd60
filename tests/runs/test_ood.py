"""vaekit.ood end to end on a tiny digits VAE: the table, ood.json, figures, scores, the background model."""

import json

import numpy as np
import pytest
from helpers import assert_png, read_npz, train_ood_run, uint8_images_file

import vaekit
from vaekit.errors import UserError
from vaekit.evaluation.ood import OOD_METHODS
from vaekit.rundir import RunDir
from vaekit.runs.ood import set_name


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    return train_ood_run(tmp_path_factory, "ood_vae")


@pytest.fixture(scope="module")
def noise_file(tmp_path_factory):
    return uint8_images_file(tmp_path_factory.mktemp("sets") / "noise.npz", 200)


@pytest.fixture(scope="module")
def every_method(vae_run, noise_file):
    """Every method against noise, the background trained here (into RUN_DIR/ood_background)."""
    table = vaekit.ood(vae_run, [str(noise_file)], examples=60, k=5, seed=0, device="cpu",
                       options={"regret_steps": 5})
    return table, json.loads(RunDir(vae_run).ood.read_text())


def test_every_method_has_the_three_numbers(every_method):
    table, written = every_method
    assert list(table) == ["noise"]
    assert set(table["noise"]) == set(OOD_METHODS.names())  # a VAE supports every method
    for numbers in table["noise"].values():
        assert set(numbers) == {"auroc", "auprc", "fpr_at_95_tpr"}
        assert 0 <= numbers["auroc"] <= 1 and 0 <= numbers["fpr_at_95_tpr"] <= 1
    assert {key: value for key, value in written.items() if key != "settings"} == table
    assert written["settings"]["examples"] == [60, 60] and written["settings"]["k"] == 5
    assert table["noise"]["nll"]["auroc"] > 0.9  # binarised noise is far less likely than digits


def test_background_is_trained_once_beside_the_run(vae_run, every_method):
    settings = every_method[1]["settings"]
    assert settings["background"]["trained_here"] and settings["background"]["mutation_rate"] == 0.2
    assert RunDir.is_run(RunDir(vae_run).ood_background)


def test_figures_and_scores(vae_run, every_method):
    run = RunDir(vae_run)
    for method in OOD_METHODS.names():
        assert_png(run.ood_figure("roc", method))
        assert_png(run.ood_figure("histogram", method))
    scores = read_npz(run.ood_folder / run.FIGURES.OOD_SCORES)
    assert scores["in-distribution/nll"].shape == (60,) and scores["noise/typicality"].shape == (6,)


def test_the_report_shows_the_table_and_figures(vae_run, every_method):
    from vaekit.figures.report import ReportContext, ood_section

    section = ood_section(ReportContext(vae_run, None, {}, []))
    assert section.title == "Out-of-distribution detection"
    assert "<td>noise</td><td>likelihood_regret</td>" in section.body
    assert section.body.count("data:image/png;base64") == 2 * len(OOD_METHODS.names())


def test_the_run_as_its_own_background_cancels_exactly(vae_run, noise_file):
    table = vaekit.ood(vae_run, str(noise_file), methods=["likelihood_ratio"], examples=40, k=5, background=vae_run,
                       device="cpu")  # one spec alone: a list of one
    assert table["noise"]["likelihood_ratio"]["auroc"] == 0.5  # every score is 0: same model, same draws
    assert read_npz(RunDir(vae_run).ood_folder / "scores.npz")["noise/likelihood_ratio"].tolist() == [0.0] * 40


def test_an_autoencoder_gets_the_methods_without_p_x(tmp_path_factory, noise_file):
    run = train_ood_run(tmp_path_factory, "ood_ae", model="ae")
    table = vaekit.ood(run, [str(noise_file)], examples=40, device="cpu")
    assert list(table["noise"]) == ["reconstruction", "residual_complexity"]
    with pytest.raises(UserError, match="ood method 'nll' needs the likelihood p.x.*methods for it: reconstruction, "
                                        "residual_complexity"):
        vaekit.ood(run, [str(noise_file)], methods=["nll"], device="cpu")


def test_set_names_are_stems_or_sources_and_unique():
    taken = {"in-distribution"}
    names = [set_name(spec, taken) for spec in ["a/noise.npz", "b/noise.npz", "mnist:/data/m", "digits"]]
    assert names == ["noise", "noise_2", "mnist", "digits"]


def test_a_vae_of_vectors_is_offered_no_orientation_and_scores_by_input_complexity(tmp_path):
    from vaekit import Config, train
    from vaekit.runs.ood import default_method

    rows = np.random.default_rng(0).random((120, 6)).astype(np.float32)
    config = Config().replace(model={"hidden": [8], "latent_dim": 2}, train={"epochs": 1, "batch_size": 40})
    run = train(config, data=rows, out=tmp_path / "run")
    np.save(tmp_path / "other.npy", rows[:30] * 0.5)
    assert default_method(run.model) == "input_complexity"  # 'combined' turns images; these are rows
    with pytest.raises(UserError, match="ood method 'orientation' needs the likelihood p.x. of images C x H x W, "
                                        "which this run's model does not have; methods for it: nll, "):
        vaekit.ood(run.dir, [str(tmp_path / "other.npy")], methods=["orientation"], data=str(tmp_path / "other.npy"),
                   device="cpu")
