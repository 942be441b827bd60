"""The registered quantizers: the options a quantizer refuses (one-line errors), an interrupted code prior
fit that resumes to the same prior, and every registered quantizer trained, saved and decoded."""

import pytest
import torch

import vaekit
from vaekit import ModelConfig, build_model
from vaekit.cli import main
from vaekit.config.migration import MOVED
from vaekit.data.batch import Batch
from vaekit.training.checkpoint import load_model, load_tensors

QUANTIZER_CASES = {  # every registered quantizer, with the options that change its parts
    "nearest": [{}, {"codebook_dim": 2, "codebook_cosine": True, "gradient": "rotation"}],
    "residual": [{"codebooks": 3}, {"codebooks": 2, "codebook_dim": 2, "codebook_ema": True}],
    "fsq": [{"fsq_levels": (3, 4)}],
}


@pytest.mark.parametrize("setting, message", [
    ("model.fsq_levels=[1,4]", "model.quantizer.levels must be one or more levels, each at least 2; got [1, 4]"),
    ("model.quantizer.levels=[1,4]", "model.quantizer.levels must be one or more levels, each at least 2"),
    ("model.codebooks=0", "model.quantizer.codebooks must be at least 1, got 0"),
    ("model.codebook_init=random", "model.quantizer.init: 'random' is not one of: uniform, kmeans"),
    ("model.quantizer.gradient=sideways", "model.quantizer.gradient: 'sideways' is not one of: straight_through, rotation"),
    ("model.quantizer=lattice", "model.quantizer.name: unknown quantizer 'lattice'; known: fsq, nearest, residual"),
    ("model.quantizer.codebook_size=many", "model.quantizer.codebook_size must be int, got 'many' (str)"),
])
def test_bad_quantizer_options_are_one_line_errors(tmp_path, capsys, setting, message):
    extra = ["--set", "model.quantizer.name=fsq"] if "levels" in setting else []
    extra += ["--set", "model.quantizer.name=residual"] if "codebooks" in setting else []
    assert main(["train", "--model", "vqvae", "--epochs", "1", "--set", setting, *extra, "--out", str(tmp_path / "r")]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1


@pytest.mark.parametrize("quantizer, setting", [
    ("nearest", "model.fsq_levels=[8,8]"),
    ("nearest", "model.codebooks=3"),
    ("fsq", "model.gradient=rotation"),
    ("fsq", "model.codebook_size=64"),
    ("fsq", "model.commitment=0.5"),
])
def test_an_option_the_chosen_quantizer_does_not_use_is_refused(tmp_path, capsys, quantizer, setting):
    assert main(["train", "--model", "vqvae", "--epochs", "1", "--set", f"model.quantizer={quantizer}",
                 "--set", setting, "--out", str(tmp_path / "r")]) == 2
    error = capsys.readouterr().err.strip()
    key = MOVED[setting.split("=")[0].split(".")[1]][1]  # the flat key's name in the quantizer section
    assert f"model.quantizer: unknown key {key!r}" in error and f"for quantizer {quantizer!r}; known keys: name, " in error
    assert len(error.splitlines()) == 1


def test_an_interrupted_code_prior_fit_resumes_to_the_same_prior(tmp_path, small_config):
    config = small_config.replace(model={"name": "vqvae", "codebook_size": 16, "code_prior_epochs": 3,
                                         "code_prior_hidden": 16}, train={"epochs": 1})
    whole = vaekit.train(config, out=tmp_path / "whole")

    class Interrupt(Exception):
        pass

    def stop(state):
        if getattr(state, "name", None) == "code_prior" and state.epoch == 1:
            raise Interrupt

    with pytest.raises(Interrupt):
        vaekit.train(config, out=tmp_path / "cut", on_epoch=stop)
    assert load_tensors(tmp_path / "cut" / "code_prior.safetensors")[1]["epoch"] == 1
    vaekit.train(resume=tmp_path / "cut")
    expected, metadata = load_tensors(whole.dir / "model.safetensors")
    got, _ = load_tensors(tmp_path / "cut" / "model.safetensors")
    assert any(name.startswith("prior.") for name in expected) and expected.keys() == got.keys()
    for name in expected:
        assert torch.equal(expected[name], got[name]), name
    assert len(metadata["code_prior"]["history"]) == 3


def quantizer_cases():
    from vaekit.models.quantizers import QUANTIZERS

    assert sorted(QUANTIZER_CASES) == QUANTIZERS.names()  # a new quantizer adds its cases here
    return [(name, options) for name, cases in QUANTIZER_CASES.items() for options in cases]


@pytest.mark.parametrize("name, options", quantizer_cases())
def test_every_quantizer_trains_its_parameters_round_trips_and_decodes_its_codes_as_the_prior_does(name, options, tmp_path):
    size = {} if name == "fsq" else {"codebook_size": 8}
    config = vaekit.Config(model=ModelConfig(name="vqvae", trunk="conv", latent_dim=3, channels=(4, 6), likelihood="bernoulli",
                                             quantizer=name, code_prior_hidden=8, **size, **options))
    torch.manual_seed(0)
    model = build_model(config.model, (1, 8, 8))
    with torch.no_grad():  # encoder outputs away from 0, where FSQ rounds every vector to the origin (no gradient to W_out)
        model.head.project.conv.weight.mul_(20)
    x = (torch.rand(6, 1, 8, 8, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    output = vaekit.build_objective(vaekit.ObjectiveConfig(), model)(model, Batch(x))
    assert torch.isfinite(output.loss) and all(term.shape == (6,) for term in output.terms.values())
    assert ("vq_commitment" in output.terms) == (name != "fsq")
    output.loss.backward()
    for parameter_name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().max() > 0, parameter_name
    model.eval()
    model.prior = model.new_prior()
    q = model.encode(x)
    torch.testing.assert_close(model.prior.vectors(q.codes), q.mean)  # a sampled grid decodes like an encoded one
    save_path = tmp_path / "m.safetensors"
    vaekit.save_model(save_path, model, config)
    loaded, _, _ = load_model(save_path)
    assert torch.equal(loaded.encode(x).mean, q.mean) and torch.equal(loaded.codes(x), model.codes(x))
