"""A new part is one file: a prior registered here, in the test file itself, whose keyword-only
constructor argument is its option, trains end to end from the command line with --set."""

import pytest
import torch
import yaml

from vaekit.cli import main
from vaekit.errors import UserError
from vaekit.models.priors import StandardNormal
from vaekit.models.registry import PRIORS
from vaekit.training.checkpoint import load_model

NAME = "toy_scaled_normal"  # unique: no part of vaekit has it


class ScaledNormal(StandardNormal):
    """N(0, scale^2 I): a standard normal prior with one option."""

    def __init__(self, latent_dim: int, classes: int = 0, *, scale: float = 1.0):
        super().__init__(latent_dim, classes)
        if not scale > 0:
            raise UserError(f"model.prior.scale must be positive, got {scale}")
        self.scale.fill_(scale)


@pytest.fixture
def registered():
    PRIORS.register(NAME)(ScaledNormal)
    yield NAME
    PRIORS.unregister(NAME)


def arguments(out, *settings) -> list[str]:
    return ["train", "--data", "digits", "--epochs", "1", "--batch-size", "64", "--latent-dim", "2",
            "--set", "model.trunk.hidden=[8]", "--set", "train.report=false", "--out", str(out),
            *(item for setting in settings for item in ("--set", setting))]


def test_a_prior_registered_in_a_test_file_trains_with_its_option_from_the_command_line(registered, tmp_path):
    out = tmp_path / "run"
    assert main(arguments(out, f"model.prior.name={registered}", "model.prior.scale=2.5")) == 0
    stored = yaml.safe_load((out / "config.yaml").read_text())
    assert stored["model"]["prior"] == {"name": registered, "scale": 2.5}
    model, config, _ = load_model(out / "model.safetensors")
    assert isinstance(model.prior, ScaledNormal) and config.model.prior.scale == 2.5
    assert torch.equal(model.prior().stddev, torch.full((2,), 2.5))


def test_its_option_is_validated_by_its_signature_and_its_own_range_check(registered, tmp_path, capsys):
    assert main(arguments(tmp_path / "a", f"model.prior.name={registered}", "model.prior.scales=2")) == 2
    assert f"unknown key 'scales' (= 2) for prior '{registered}'; known keys: name, scale" in capsys.readouterr().err
    assert main(arguments(tmp_path / "b", f"model.prior.name={registered}", "model.prior.scale=0")) == 2
    assert "model.prior.scale must be positive, got 0.0" in capsys.readouterr().err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()
