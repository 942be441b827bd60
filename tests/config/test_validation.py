"""The one validator of the model and objective sections (vaekit.config.options): unknown keys, wrong
types, the parts' own range checks, the layering rule, and the resolved config a run stores."""

import pytest
import yaml
from helpers import cli_error

from vaekit import Config, UserError
from vaekit.cli import main
from vaekit.config.section import Section

TINY = ["--data", "digits", "--epochs", "1", "--batch-size", "64", "--latent-dim", "2",
        "--set", "model.trunk.hidden=[8]", "--set", "train.report=false"]


def test_an_unknown_key_is_named_with_the_part_and_the_keys_it_knows():
    with pytest.raises(UserError) as error:
        Config().override(["model.prior.name=mog", "model.prior.compnents=5"])
    assert str(error.value) == ("--set: model.prior: unknown key 'compnents' (= 5) for prior 'mog'; "
                                "known keys: name, components")


def test_an_unknown_key_of_the_model_lists_the_models_options():
    with pytest.raises(UserError, match=r"model: unknown key 'quantizer' \(= \{'name': 'fsq'\}\) for model 'vae'; "
                                        r"known keys: name, latent_dim, trunk, prior, likelihood, conditional, classes$"):
        Config().override(["model.quantizer.name=fsq"])


@pytest.mark.parametrize("assignment, message", [
    ("model.latent_dim=abc", "model.latent_dim must be int, got 'abc' (str)"),
    ("model.trunk.hidden=[8,wide]", "model.trunk.hidden must be int, got 'wide' (str)"),
    ("model.trunk.gated=3", "model.trunk.gated must be bool, got 3 (int)"),
    ("objective.beta=true", "objective.beta must be float, got True (bool)"),
    ("train.epochs=1.5", "train.epochs must be int, got 1.5 (float)"),
])
def test_a_wrong_type_names_the_key_the_value_and_the_type(assignment, message):
    with pytest.raises(UserError) as error:
        Config().override([assignment])
    assert str(error.value) == f"--set: {message}"


def test_an_int_is_taken_for_a_float_and_a_single_value_for_a_tuple():
    config = Config().override(["objective.beta=4", "model.trunk.hidden=64"])
    assert config.objective.beta == 4.0 and isinstance(config.objective.beta, float)
    assert config.model.trunk.hidden == (64,)


def test_a_range_error_comes_from_the_part_before_the_run_folder_exists(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--prior", "mog", "--set", "model.prior.components=0", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.strip().endswith("model.prior.components must be at least 1, got 0") and error.count("\n") == 1
    assert not out.exists()


def test_the_flag_and_the_set_of_one_layer_are_checked_together_in_either_order():
    config = Config().layer(["objective.gamma=3"], objective={"name": "beta_tcvae"})
    assert (config.objective.name, config.objective.gamma) == ("beta_tcvae", 3.0)


def test_changing_a_parts_name_drops_the_old_parts_options_the_new_one_does_not_take():
    lower = Config().replace(model={"prior": {"name": "mog", "components": 5}})
    assert lower.model.prior == {"name": "mog", "components": 5}
    assert lower.override(["model.prior.name=normal"]).model.prior == {"name": "normal"}
    assert lower.override(["model.prior.name=vamp"]).model.prior == {"name": "vamp", "components": 5}  # vamp takes it
    vqvae = lower.override(["model.name=vqvae"]).model
    assert "prior" not in vqvae and vqvae.quantizer.name == "nearest" and vqvae.latent_dim == lower.model.latent_dim


def test_an_option_set_in_the_same_layer_as_the_name_is_checked_against_the_new_part():
    lower = Config().replace(model={"prior": {"name": "mog", "components": 5}})
    with pytest.raises(UserError, match="unknown key 'components' .* for prior 'normal'"):
        lower.override(["model.prior.name=normal", "model.prior.components=3"])


def test_objective_auto_is_checked_as_the_models_default_objective():
    assert Config().objective == {"name": "auto", "beta": 1.0, "warmup_epochs": 0, "free_bits": 0.0}
    autoencoder = Config().override(["model.name=ae"])
    assert autoencoder.objective == {"name": "auto"}  # the ELBO's options dropped: reconstruction takes none
    with pytest.raises(UserError, match="unknown key 'beta' .* for objective 'reconstruction'"):
        autoencoder.override(["objective.beta=4"])


def test_a_section_is_immutable_and_reads_its_options_as_attributes():
    section = Section(name="mog", components=3)
    assert (section.name, section.components, section.options) == ("mog", 3, {"components": 3})
    with pytest.raises(AttributeError):
        section.components = 4
    with pytest.raises(AttributeError, match="no option 'scale'"):
        section.scale


def test_a_run_stores_the_resolved_tree_with_the_chosen_likelihood_and_objective(tmp_path):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--objective", "auto", "--out", str(out)]) == 0
    stored = yaml.safe_load((out / "config.yaml").read_text())
    assert stored["model"]["likelihood"] == {"name": "bernoulli"}  # 'auto' chose it from the grey levels
    assert stored["model"]["trunk"] == {"name": "mlp", "hidden": [8], "gated": False}  # every default filled in
    assert stored["objective"] == {"name": "elbo", "beta": 1.0, "warmup_epochs": 0, "free_bits": 0.0}
    assert Config.from_dict(stored).to_dict() == stored  # stored as it reads back


@pytest.mark.parametrize("arguments, pattern", [
    (["--batch-size", "0"], r"train\.batch_size must be at least 1, got 0$"),
    (["--batch-size", "-5"], r"train\.batch_size must be at least 1, got -5$"),
    (["--lr", "-1"], r"train\.lr must be a finite number above 0, got -1\.0$"),
    (["--lr", "nan"], r"train\.lr must be a finite number, got nan$"),
    (["--lr", "inf"], r"train\.lr must be a finite number, got inf$"),
    (["--epochs", "0"], r"train\.epochs must be at least 1, got 0$"),
    (["--epochs", "-3"], r"train\.epochs must be at least 1, got -3$"),
    (["--set", "model.trunk.hidden=[512,-1]"], r"model\.trunk\.hidden must be one or more widths, each an integer "
                                               r"from 1 to 65536, got \[512, -1\]$"),
    (["--set", "model.trunk.hidden=[100000000000]"], r"model\.trunk\.hidden must be one or more widths, each an integer "
                                                     r"from 1 to 65536, got \[100000000000\]$"),
    (["--latent-dim", "100000000000"], r"model\.latent_dim must be an integer from 1 to 65536, got 100000000000$"),
    (["--seed", "-1"], r"train\.seed must be an integer from 0 to 4294967295, got -1$"),
    (["--set", "data.val_fraction=0.9999"], r"data\.val_fraction 0\.9999: holds out 1438 of the 1438 training examples "
                                            r"of digits, leaving none to train on; choose a smaller fraction$"),
    (["--set", "model.trunk.hidden=[]"], r"model\.trunk\.hidden must be one or more widths, .*got \[\]$"),
    (["--set", "model.trunk.hidden=[8,0]"], r"model\.trunk\.hidden must be one or more widths, .*got \[8, 0\]$"),
    (["--set", "data.val_fraction=-0.1"], r"data\.val_fraction must be at least 0 and below 1 \(0: no validation "
                                          r"split\), got -0\.1$"),
    (["--set", "data.val_fraction=1"], r"data\.val_fraction must be at least 0 and below 1 .*got 1\.0$"),
    (["--set", "data.val_fraction=1.5"], r"data\.val_fraction must be at least 0 and below 1 .*got 1\.5$"),
    (["--set", "train.grad_clip=-1"], r"train\.grad_clip must be a finite number, at least 0 .*got -1\.0$"),
    (["--set", "train.patience=-1"], r"train\.patience must be at least 0 .*got -1$"),
    (["--set", "train.steps_per_epoch=-2"], r"train\.steps_per_epoch must be at least 0 .*got -2$"),
    (["--set", "objective.beta=.nan"], r"objective\.beta must be a finite number, got nan$"),
    (["--set", "objective.beta=-.inf"], r"objective\.beta must be a finite number, got -inf$"),
])
def test_train_refuses_a_number_out_of_range_before_the_run_folder_exists(arguments, pattern, tmp_path, capsys):
    out = tmp_path / "run"
    cli_error(["train", *TINY, *arguments, "--out", str(out)], capsys, pattern)
    assert not out.exists()


def test_epochs_out_of_range_in_a_yaml_file_names_the_file_and_the_key(tmp_path, capsys):
    path, out = tmp_path / "c.yaml", tmp_path / "run"
    path.write_text("train:\n  epochs: 0\n")
    cli_error(["train", "--config", str(path), "--out", str(out)], capsys,
              rf"{path}: train\.epochs must be at least 1, got 0$")
    assert not out.exists()


def test_the_config_dataclasses_check_their_ranges_when_built():
    with pytest.raises(UserError, match=r"^train\.batch_size must be at least 1, got 0$"):
        vaekit_config().TrainConfig(batch_size=0)
    with pytest.raises(UserError, match=r"^data\.val_fraction must be at least 0 and below 1"):
        vaekit_config().DataConfig(val_fraction=1.0)
    with pytest.raises(UserError, match=r"train\.lr must be a finite number above 0, got 0\.0$"):
        Config().replace(train={"lr": 0})


def vaekit_config():
    import vaekit.config

    return vaekit.config


def test_the_conv_trunk_refuses_an_empty_list_of_channels(tmp_path, capsys):
    out = tmp_path / "run"
    cli_error(["train", "--data", "digits", "--epochs", "1", "--trunk", "conv", "--set", "model.trunk.channels=[]",
               "--out", str(out)], capsys, r"model\.trunk\.channels must be one or more widths, each an integer from 1 to "
                                           r"65536, got \[\]$")
    assert not out.exists()


@pytest.mark.parametrize(("text", "line", "column", "reason"), [
    ("model:\n  latent_dim: [1, 2\ntrain: {epochs: 3}\n", 3, 6, r"while parsing a flow sequence expected ',' or ']', but got ':'"),
    ("model:\n\tlatent_dim: 3\n", 2, 1, r"found character '\\t' that cannot start any token"),
    ("train: epochs: 3\n", 1, 14, r"mapping values are not allowed here"),
])
def test_malformed_yaml_is_one_line_with_the_file_line_column_and_reason(text, line, column, reason, tmp_path, capsys):
    path, out = tmp_path / "c.yaml", tmp_path / "run"
    path.write_text(text)
    cli_error(["train", "--config", str(path), "--out", str(out)], capsys,
              rf"^vaekit train: error: {path}:{line}:{column}: not valid YAML: .*{reason}; fix the syntax$")
    assert not out.exists()


def test_a_config_that_is_a_folder_is_called_a_folder(tmp_path, capsys):
    cli_error(["train", "--config", str(tmp_path), "--out", str(tmp_path / "run")], capsys,
              rf"{tmp_path}: is a folder, not a config file; pass the path of a YAML file")
def test_a_number_with_an_exponent_and_no_dot_is_a_number_on_the_command_line():
    config = Config().override(["train.lr=1e-4", "objective.beta=2E1", "data.source=1e5x"])
    assert config.train.lr == 1e-4 and config.objective.beta == 20.0 and config.data.source == "1e5x"
