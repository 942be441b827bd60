"""configs/dsprites/: the papers' recipes. Each loads, cites its source and states its protocol; each
trains a few steps (on a small 64x64 stand-in for dSprites, so the test needs no 3 GB drawing)."""

import sys

import pytest
from helpers import REPOSITORY

from vaekit import load_config, train

RECIPES = REPOSITORY / "configs" / "dsprites"
DLIB = ("dlib_vae", "dlib_beta_vae", "dlib_beta_tcvae", "dlib_factorvae", "dlib_dip_vae_i", "dlib_dip_vae_ii",
        "dlib_annealed_vae")
# recipe -> (objective, its paper's setting)
OBJECTIVES = {"dlib_vae": ("elbo", {"beta": 1.0}), "dlib_beta_vae": ("elbo", {"beta": 4.0}),
              "dlib_beta_tcvae": ("beta_tcvae", {"beta": 6.0, "tc_estimator": "mws"}),
              "dlib_factorvae": ("factorvae", {"gamma": 30.0, "discriminator_lr": 1e-4}),
              "dlib_dip_vae_i": ("dip_vae_i", {"lambda_od": 10.0, "lambda_d": 100.0}),
              "dlib_dip_vae_ii": ("dip_vae_ii", {"lambda_od": 10.0, "lambda_d": 10.0}),
              "dlib_annealed_vae": ("capacity", {"gamma": 1000.0, "capacity_max": 25.0, "capacity_steps": 100000}),
              "kim_mnih_factorvae": ("factorvae", {"gamma": 35.0, "discriminator_hidden": 1000,
                                                   "discriminator_layers": 6}),
              "chen_beta_tcvae": ("beta_tcvae", {"beta": 6.0, "tc_estimator": "mss"}),
              "darla_dae": ("denoising", {}), "darla_beta_vae_dae": ("beta_vae_dae", {"beta": 4.0})}


def test_every_recipe_is_listed():
    assert {path.stem for path in RECIPES.glob("*.yaml")} == set(OBJECTIVES)


@pytest.mark.parametrize("name", sorted(OBJECTIVES))
def test_a_recipe_cites_its_source_and_states_its_protocol(name):
    text = (RECIPES / f"{name}.yaml").read_text()
    config = load_config(RECIPES / f"{name}.yaml")
    source = {"dlib": "disentanglement_lib", "kim": "Kim and Mnih (2018)", "chen": "Chen et al. (2018)",
              "darla": "DARLA"}[name.split("_")[0]]
    assert text.startswith("#") and source in text
    objective, settings = OBJECTIVES[name]
    assert config.objective.name == objective and all(config.objective[k] == v for k, v in settings.items())
    assert config.data.source == "dsprites" and config.data.validation == "none"
    assert config.model.likelihood.name == "bernoulli" and config.model.latent_dim in (10, 100)
    if name.startswith(("dlib", "kim", "darla")):  # disentanglement_lib's and Kim and Mnih's regime
        assert (config.train.batch_size, config.train.lr) == (64, 1e-4)
        assert config.train.epochs * config.train.steps_per_epoch == 300_000
        assert config.model.trunk.name == "dlib_conv"
    else:  # Chen et al.'s: batch 2048, lr 1e-3, 50 epochs of their MLP
        assert (config.train.batch_size, config.train.lr, config.train.epochs) == (2048, 1e-3, 50)
        assert config.model.trunk.name == "chen_mlp"


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory):
    """128 images 64x64 with two factors (tests/benchmarks' squares)."""
    sys.path.insert(0, str(REPOSITORY / "tests" / "benchmarks"))
    from test_disentanglement_gpu import squares64

    return squares64(tmp_path_factory.mktemp("recipes") / "squares.npz", repeats=8)


def shortened(name, stand_in, **objective):
    return load_config(RECIPES / f"{name}.yaml").replace(
        data={"source": str(stand_in)}, train={"epochs": 1, "steps_per_epoch": 2, "batch_size": 16},
        objective=objective)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(set(OBJECTIVES) - {"darla_beta_vae_dae"}))
def test_every_recipe_trains_a_few_steps(name, stand_in, tmp_path):
    run = train(shortened(name, stand_in), out=tmp_path / name)
    assert run.state.epoch == 1 and run.model.data_shape == (1, 64, 64)


def test_the_darla_recipes_train_the_dae_then_the_beta_vae_dae_in_its_feature_space(stand_in, tmp_path):
    dae = train(shortened("darla_dae", stand_in), out=tmp_path / "dae")
    run = train(shortened("darla_beta_vae_dae", stand_in, dae_run=str(dae.dir)), out=tmp_path / "bvd")
    assert run.state.epoch == 1 and run.config.objective.dae_run == str(dae.dir)
    assert "train_dae_distance" in (run.dir / "metrics.csv").read_text()


@pytest.mark.parametrize("old, new, fragment", [
    ("name: dlib_conv", "name: no_such_trunk", "no_such_trunk"),  # a missing architecture
    ("dense: 256,", "dense: 256, dropout: 0.1,", "unknown key"),
])
def test_a_broken_recipe_exits_2_with_one_line_and_writes_nothing(old, new, fragment, tmp_path, capsys):
    from helpers import cli_error

    broken = tmp_path / "broken.yaml"
    broken.write_text((RECIPES / "dlib_vae.yaml").read_text().replace(old, new))
    cli_error(["train", "--config", str(broken), "--out", str(tmp_path / "run")], capsys, fragment)
    assert not (tmp_path / "run").exists()
