"""Configs and run folders of earlier versions migrate on read (vaekit.config.migration): the 0.1.0
run folder, the 0.1 files of the golden metrics and the run folders written just before 0.2, and the
old flat --set keys."""

import shutil

import pytest
import yaml
from helpers import DATA

import vaekit
from vaekit import Config, UserError, load_config
from vaekit.cli import main
from vaekit.config.migration import is_flat, migrate
from vaekit.training.checkpoint import load_model

GOLDEN = DATA / "golden_metrics"
RUNS = DATA / "runs_before_0_2"
RUN_0_1_0 = DATA / "run_v0_1_0"


def flat_model(**changes) -> dict:
    """A 0.1 file's sections: the 0.1.0 run's config with ``changes`` in its flat model section."""
    values = yaml.safe_load((RUN_0_1_0 / "config.yaml").read_text())
    values["model"].update(changes)
    return values


def test_the_0_1_0_config_moves_each_flat_key_to_its_part():
    values = yaml.safe_load((RUN_0_1_0 / "config.yaml").read_text())
    assert is_flat(values) and not is_flat(migrate(values))
    assert migrate(values)["model"] == {"name": "vae", "latent_dim": 2, "trunk": {"hidden": [16]},
                                        "likelihood": {"name": "bernoulli"}}
    config = load_config(RUN_0_1_0 / "config.yaml")
    assert config.model.trunk == {"name": "mlp", "hidden": (16,), "gated": False}
    assert config.objective == {"name": "auto", "beta": 1.0, "warmup_epochs": 0, "free_bits": 0.0}


def test_the_0_1_0_checkpoint_metadata_migrates_and_its_model_loads():
    model, config, _ = load_model(RUN_0_1_0 / "model.safetensors")
    assert config.model.latent_dim == 2 and config.model.prior == {"name": "normal"}
    assert tuple(model.sample(2).shape) == (2, 1, 8, 8)


@pytest.mark.parametrize("case, model", [
    ("vqvae_fsq", {"name": "vqvae", "latent_dim": 4, "trunk": {"hidden": [32]}, "likelihood": {"name": "bernoulli"},
                   "quantizer": {"name": "fsq", "levels": [5, 3]}, "code_prior": {"epochs": 0}}),
    ("vae_conv_mog_gated", {"name": "vae", "latent_dim": 4, "trunk": {"name": "conv", "channels": [8, 16], "gated": True},
                            "likelihood": {"name": "bernoulli"}, "prior": {"name": "mog", "components": 3}}),
    ("cvae", {"name": "vae", "latent_dim": 4, "trunk": {"hidden": [32]}, "likelihood": {"name": "bernoulli"},
              "prior": {"name": "conditional"}, "conditional": True, "classes": 10}),
])
def test_a_0_1_golden_config_migrates_to_its_parts(case, model):
    values = yaml.safe_load((GOLDEN / f"{case}.config.yaml").read_text())
    assert migrate(values)["model"] == model


def test_every_0_1_file_of_today_loads():
    for path in [*GOLDEN.glob("*.config.yaml"), *RUNS.glob("*/config.yaml")]:
        assert load_config(path).model.name in vaekit.MODELS.names(), path


@pytest.mark.parametrize("run", ["vae_mlp", "cvae", "vqvae_fsq"])
def test_a_run_folder_written_before_0_2_opens_samples_and_resumes(run, tmp_path):
    run_dir = tmp_path / run
    shutil.copytree(RUNS / run, run_dir)
    model = vaekit.load(run_dir)
    if model.prior is not None:
        assert tuple(model.sample(2).shape)[0] == 2
    assert main(["train", "--resume", str(run_dir), "--epochs", "3"]) == 0  # one more epoch from the old state
    assert len((run_dir / "metrics.csv").read_text().splitlines()) == 1 + 3
    assert not is_flat(yaml.safe_load((run_dir / "config.yaml").read_text()))  # rewritten in the nested layout


def test_a_flat_key_at_its_0_1_default_that_does_not_apply_is_dropped():
    config = Config.from_dict(flat_model(name="vqvae", prior="normal", prior_components=0, conditional=False))
    assert "prior" not in config.model and "conditional" not in config.model


def test_a_non_default_flat_key_that_does_not_apply_is_an_error_as_in_0_1():
    with pytest.raises(UserError, match=r"model.prior: unknown key 'components' \(= 5\) for prior 'normal'"):
        Config.from_dict(flat_model(prior_components=5))
    with pytest.raises(UserError, match=r"model: unknown key 'conditional' \(= True\) for model 'vqvae'"):
        Config.from_dict(flat_model(name="vqvae", conditional=True))


def test_options_0_1_ignored_for_the_chosen_parts_are_dropped():
    config = Config.from_dict(flat_model(channels=[8], sigma=0.5, codebook_size=64))  # mlp, bernoulli, a vae
    assert config.model.trunk == {"name": "mlp", "hidden": (16,), "gated": False}


def test_a_hierarchical_models_hidden_width_on_a_conv_trunk_becomes_its_width():
    config = Config.from_dict(flat_model(name="conv_hvae", trunk="conv", hidden=[300], channels=[8]))
    assert config.model.width == 300 and config.model.trunk == {"name": "conv", "channels": (8,), "gated": False}


@pytest.mark.parametrize("flat, nested", [
    (["model.prior=mog", "model.prior_components=5"], ["model.prior.name=mog", "model.prior.components=5"]),
    (["model.trunk=conv", "model.channels=[8]"], ["model.trunk.name=conv", "model.trunk.channels=[8]"]),
    (["model.hidden=[64]", "model.gated=true"], ["model.trunk.hidden=[64]", "model.trunk.gated=true"]),
    (["model.name=vqvae", "model.quantizer=fsq", "model.fsq_levels=[5,3]", "model.code_prior_epochs=0"],
     ["model.name=vqvae", "model.quantizer.name=fsq", "model.quantizer.levels=[5,3]", "model.code_prior.epochs=0"]),
    (["model.likelihood=gaussian", "model.sigma=0.5"], ["model.likelihood.name=gaussian", "model.likelihood.sigma=0.5"]),
])
def test_old_flat_set_keys_are_translated_to_the_nested_ones(flat, nested):
    assert Config().override(flat) == Config().override(nested)


def test_prior_components_0_keeps_the_priors_default_as_in_0_1():
    assert Config().override(["model.prior=vamp", "model.prior_components=0"]).model.prior.components == 500


@pytest.mark.parametrize("quantizer", ["nearest", "residual"])
def test_a_0_1_vqvae_keeps_the_0_1_commitment_and_restarts_whose_defaults_changed(quantizer):
    today = Config().replace(model={"name": "vqvae", "quantizer": {"name": quantizer}}).model.quantizer
    assert (today.commitment, today.restart) == (1.0, 2)  # 0.3's defaults
    absent = Config.from_dict(flat_model(name="vqvae", quantizer=quantizer)).model.quantizer  # 0.1 read 0.25, 100
    at_defaults = Config.from_dict(flat_model(name="vqvae", quantizer=quantizer, commitment=0.25,
                                              codebook_restart=100)).model.quantizer
    assert (absent.commitment, absent.restart) == (at_defaults.commitment, at_defaults.restart) == (0.25, 100)
    given = Config.from_dict(flat_model(name="vqvae", quantizer=quantizer, commitment=0.5, codebook_restart=7))
    assert (given.model.quantizer.commitment, given.model.quantizer.restart) == (0.5, 7)


def test_a_0_1_fsq_or_vae_config_gets_no_codebook_options():
    assert Config.from_dict(flat_model(name="vqvae", quantizer="fsq")).model.quantizer == {"name": "fsq",
                                                                                            "levels": (8, 5, 5, 5)}
    assert "quantizer" not in migrate(flat_model(name="vae"))["model"]
