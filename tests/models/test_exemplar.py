"""The exemplar prior: its density against the direct mixture formula, exemplars drawn from the
training inputs (as the encoder sees them, reproducibly), kept through save/load and resume,
gradients into the encoder, and the refusals (no exemplars yet, too few examples, streamed data)."""

import math

import numpy as np
import pytest
import torch
from PIL import Image
from helpers import read_metrics
from interrupted import train_interrupted

import vaekit
from vaekit import Config, ModelConfig, UserError, build_model, save_model
from vaekit.cli import main
from vaekit.data.binarize import binarize_once
from vaekit.models.exemplar import ExemplarPrior
from vaekit.runs.prepared import binarize_seed, prepare_data
from vaekit.training.checkpoint import load_model, load_tensors

SHAPE, D = (1, 6, 5), 3


def model_with(name: str = "vae", components: int = 5, seed: int = 0):
    torch.manual_seed(seed)
    config = ModelConfig(name=name, prior="exemplar", prior_components=components, latent_dim=D, hidden=(16,),
                         likelihood="bernoulli")
    return build_model(config, SHAPE), config


def binary(n: int, seed: int) -> torch.Tensor:
    return (torch.rand(n, *SHAPE, generator=torch.Generator().manual_seed(seed)) < 0.5).float()


def exemplar_prior(model) -> ExemplarPrior:
    return model.prior.top if hasattr(model.prior, "top") else model.prior


def small_run_config(**model) -> Config:
    return Config().replace(model={"hidden": [32], "latent_dim": 4, "prior": "exemplar", "prior_components": 20,
                                   **model},
                            train={"epochs": 2, "batch_size": 64, "report": False})


def is_row_of(rows: torch.Tensor, table: torch.Tensor) -> bool:
    """Every row of ``rows`` (M, ...) equals some row of ``table`` (N, ...)."""
    return bool((rows.flatten(1)[:, None] == table.flatten(1)[None]).all(-1).any(-1).all())


@pytest.mark.parametrize("name", ["vae", "hvae"])
def test_log_density_is_the_uniform_mixture_at_the_exemplar_means(name):
    model, _ = model_with(name, components=5)
    model.prior.take_exemplars(lambda: binary(12, 1), torch.Generator().manual_seed(0))
    prior = exemplar_prior(model)
    with torch.no_grad():
        prior.log_scale.fill_(-0.4)
    encode_top = (lambda x: model.encode(x).top) if name == "hvae" else model.encode
    sigma = math.exp(-0.4)
    z = torch.randn(7, D)
    # Each exemplar encoded on its own: log (1/M) sum_m N(z; mu(x_m), sigma^2 I).
    parts = []
    for m in range(5):
        mean = encode_top(prior.exemplars[m : m + 1]).mean  # (1, D)
        parts.append(torch.distributions.Normal(mean, sigma).log_prob(z).sum(-1))  # (7,)
    direct = torch.stack(parts).logsumexp(0) - math.log(5)
    with torch.no_grad():
        torch.testing.assert_close(prior().log_prob(z), direct)


def test_exemplars_are_training_rows_drawn_reproducibly_by_the_generator():
    model, _ = model_with(components=6)
    x = torch.randn(40, *SHAPE)
    model.prior.take_exemplars(lambda: x, torch.Generator().manual_seed(3))
    drawn = model.prior.exemplars.clone()
    assert drawn.shape == (6, *SHAPE) and is_row_of(drawn, x)
    assert len({tuple(row.tolist()) for row in drawn.flatten(1)}) == 6  # without replacement
    twin, _ = model_with(components=6, seed=9)  # another initialisation: the draw depends on the generator only
    twin.prior.take_exemplars(lambda: x, torch.Generator().manual_seed(3))
    assert torch.equal(twin.prior.exemplars, drawn)
    twin.prior.take_exemplars(lambda: x, torch.Generator().manual_seed(4))
    assert not torch.equal(twin.prior.exemplars, drawn)


def test_gradients_reach_the_encoder_through_the_prior_term():
    model, _ = model_with("hvae", components=4)
    model.prior.take_exemplars(lambda: binary(10, 2), torch.Generator().manual_seed(0))
    z2 = torch.randn(6, D)  # fixed points: the prior term alone
    exemplar_prior(model)().log_prob(z2).sum().backward()
    assert exemplar_prior(model).log_scale.grad.abs() > 0
    for parameter_name, parameter in [*model.encoder.named_parameters(), *model.head.top.named_parameters()]:
        assert parameter.grad is not None and parameter.grad.abs().max() > 0, parameter_name


def test_samples_are_exemplar_means_at_temperature_zero_and_spread_with_sigma():
    model, _ = model_with(components=4)
    model.prior.take_exemplars(lambda: binary(10, 5), torch.Generator().manual_seed(0))
    with torch.no_grad():
        means = model.encode(model.prior.exemplars).mean  # (4, D)
        cold = model.prior.sample(50, 0.0, torch.Generator().manual_seed(1))
        warm = model.prior.sample(50, 1.0, torch.Generator().manual_seed(1))
    assert cold.shape == (50, D)
    assert ((cold[:, None] - means[None]).abs().amax(-1) < 1e-6).any(-1).all()
    torch.testing.assert_close((warm - cold).std(), torch.tensor(1.0), atol=0.2, rtol=0)  # sigma starts at 1
    assert model.sample(3, 0.5, torch.Generator().manual_seed(0)).shape == (3, *SHAPE)


def test_save_and_load_give_the_same_log_density(tmp_path):
    model, config = model_with("hvae", components=5)
    model.prior.take_exemplars(lambda: binary(12, 6), torch.Generator().manual_seed(0))
    with torch.no_grad():
        exemplar_prior(model).log_scale.fill_(0.3)
    save_model(tmp_path / "model.safetensors", model, Config(model=config))
    loaded = load_model(tmp_path / "model.safetensors")[0]
    assert torch.equal(exemplar_prior(loaded).exemplars, exemplar_prior(model).exemplars)
    z = torch.randn(8, 2 * D)
    model.eval()
    with torch.no_grad():
        assert torch.equal(loaded.prior_distribution().log_prob(z), model.prior_distribution().log_prob(z))


def test_a_model_without_exemplars_says_how_to_get_them(tmp_path):
    model, config = model_with()
    with pytest.raises(UserError, match="take_exemplars"):
        model.prior_distribution()
    save_model(tmp_path / "model.safetensors", model, Config(model=config))  # 'not yet filled' survives a round trip
    with pytest.raises(UserError, match="no exemplars yet"):
        load_model(tmp_path / "model.safetensors")[0].prior_distribution()


def test_more_exemplars_than_training_examples_is_a_user_error():
    model, _ = model_with(components=20)
    with pytest.raises(UserError, match="prior.components=20 .* 12 examples"):
        model.prior.take_exemplars(lambda: binary(12, 0), torch.Generator().manual_seed(0))


def test_a_run_takes_real_valued_exemplars_as_they_are(tmp_path):
    data = torch.randn(200, 5, generator=torch.Generator().manual_seed(0)) * 3 + 1  # gaussian likelihood, no binarizing
    run = vaekit.train(small_run_config(), data=data, out=tmp_path / "run")
    exemplars = exemplar_prior(run.model).exemplars
    assert exemplars.shape == (20, 5)
    assert is_row_of(exemplars, run.data.train.inputs())  # the training split, not the validation rows


def test_command_line_run_on_dynamically_binarized_digits_takes_fixed_binary_exemplars(tmp_path):
    """The encoder only sees binary images, so the exemplars are the training split binarized once
    (with the training split's seed), the same for the same seed, another draw for another seed."""
    flags = ["--data", "digits", "--prior", "exemplar", "--set", "model.prior_components=30", "--epochs", "2",
             "--batch-size", "64", "--latent-dim", "4", "--set", "model.hidden=[32]", "--set", "train.report=false"]
    for out, seed in (("a", "0"), ("b", "0"), ("c", "1")):
        assert main(["train", *flags, "--seed", seed, "--out", str(tmp_path / out)]) == 0
    exemplars = {out: exemplar_prior(vaekit.load(tmp_path / out)).exemplars for out in "abc"}
    config = vaekit.load_config(tmp_path / "a" / "config.yaml")
    prepared = prepare_data(config, None, torch.device("cpu"))
    assert prepared.binarize == "dynamic"
    fixed = binarize_once(prepared.train, binarize_seed(config, "train")).inputs()
    assert exemplars["a"].shape == (30, 1, 8, 8)
    assert set(exemplars["a"].unique().tolist()) == {0.0, 1.0}
    assert is_row_of(exemplars["a"], fixed)
    assert torch.equal(exemplars["a"], exemplars["b"]) and not torch.equal(exemplars["a"], exemplars["c"])
    rows = read_metrics(tmp_path / "a")
    assert all(math.isfinite(float(row["val_elbo"])) for row in rows)
    assert (tmp_path / "a" / "samples.png").stat().st_size > 0


def test_a_resumed_run_keeps_its_exemplars(tmp_path, monkeypatch):
    config = small_run_config()
    whole = vaekit.train(config, out=tmp_path / "whole")

    train_interrupted(config, tmp_path / "cut", epochs=1)
    taken = load_tensors(tmp_path / "cut" / "last.safetensors")[0]["prior.exemplars"]
    calls = []
    original = ExemplarPrior.take_exemplars
    monkeypatch.setattr(ExemplarPrior, "take_exemplars", lambda self, *a: calls.append(a) or original(self, *a))
    resumed = vaekit.train(resume=tmp_path / "cut")
    assert calls == [] and resumed.state.epoch == 2
    final = load_tensors(tmp_path / "cut" / "last.safetensors")[0]
    assert torch.equal(final["prior.exemplars"], taken)
    assert torch.equal(final["prior.exemplars"], load_tensors(whole.dir / "last.safetensors")[0]["prior.exemplars"])
    assert torch.equal(final["prior.log_scale"], load_tensors(whole.dir / "last.safetensors")[0]["prior.log_scale"])


def test_streamed_data_is_refused_with_a_message_naming_the_prior(tmp_path):
    folder = tmp_path / "images"
    for label in range(2):
        (folder / f"class{label}").mkdir(parents=True)
        for i in range(10):
            Image.fromarray(np.full((6, 5), 25 * i, np.uint8)).save(folder / f"class{label}" / f"{i}.png")
    config = small_run_config(prior_components=4).replace(data={"stream": "always"})
    with pytest.raises(UserError, match="prior 'exemplar' .*in memory.*data.stream=never"):
        vaekit.train(config, data=str(folder), out=tmp_path / "run")
