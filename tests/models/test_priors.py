"""Priors: exact mixture densities against direct computations, sampling and temperature, the
contract for every registered prior (gradients, save/load, copies), free bits refused, and the
command line with the VampPrior."""

import copy
import math

import pytest
import torch
from helpers import read_metrics

from vaekit import PRIORS, Config, ModelConfig, ObjectiveConfig, UserError, build_model, build_objective, save_model
from vaekit.cli import main
from vaekit.data.batch import Batch
from vaekit.models import priors
from vaekit.objectives import ELBO
from vaekit.training.checkpoint import load_model

SHAPE, D = (1, 6, 5), 3


def model_with(prior: str, name: str = "vae", components: int = 0, seed: int = 0):
    torch.manual_seed(seed)
    config = ModelConfig(name=name, prior=prior, prior_components=components, latent_dim=D, hidden=(16,),
                         likelihood="bernoulli")
    return build_model(config, SHAPE), config


def log_normal(z: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """log N(z; loc, diag(scale^2)) summed over the last dim, written out."""
    return (-0.5 * ((z - loc) / scale) ** 2 - scale.log() - 0.5 * math.log(2 * math.pi)).sum(-1)


def test_mixture_of_gaussians_log_density_is_the_mixture_formula():
    model, _ = model_with("mog", components=4)
    prior = model.prior
    with torch.no_grad():  # move every parameter away from its symmetric start
        prior.logits.copy_(torch.tensor([0.5, -1.0, 2.0, 0.0]))
        prior.log_scale.copy_(0.3 * torch.randn(4, D))
    z = torch.randn(7, D)
    weights = prior.logits.log_softmax(0)  # (K,)
    direct = torch.stack([weights[k] + log_normal(z, prior.loc[k], prior.log_scale[k].exp()) for k in range(4)])
    torch.testing.assert_close(prior().log_prob(z), direct.logsumexp(0))


def test_vamp_prior_log_density_is_the_uniform_mixture_of_encoded_pseudo_inputs():
    model, _ = model_with("vamp", components=6)
    pseudo = model.prior.pseudo_inputs
    assert pseudo.shape == (6, *SHAPE)
    z = torch.randn(5, D)
    # Each pseudo-input encoded on its own: log (1/K) sum_k q(z|u_k).
    per_component = torch.stack([model.encode(pseudo[k : k + 1]).log_prob(z) for k in range(6)])  # (K, 5)
    torch.testing.assert_close(model.prior_distribution().log_prob(z), per_component.logsumexp(0) - math.log(6))


def test_vamp_prior_defaults_to_500_components_and_mog_to_10():
    assert model_with("vamp")[0].prior.pseudo_inputs.shape[0] == 500
    assert model_with("mog")[0].prior.logits.shape == (10,)


def test_vamp_prior_of_the_hierarchy_encodes_with_q_z2():
    model, _ = model_with("vamp", name="hvae", components=4)
    pseudo = model.prior.top.pseudo_inputs
    z2 = torch.randn(5, D)
    per_component = torch.stack([model.encode(pseudo[k : k + 1]).top.log_prob(z2) for k in range(4)])
    torch.testing.assert_close(model.prior.top().log_prob(z2), per_component.logsumexp(0) - math.log(4))


@pytest.mark.parametrize("prior", ["normal", "mog", "vamp"])
def test_samples_have_the_latent_shape_and_temperature_scales_the_spread(prior):
    """Same generator seed: the same components and noise, so z(T) - z(0) = T (z(1) - z(0)) exactly."""
    model, _ = model_with(prior, components=0 if prior == "normal" else 4)
    draws = {t: model.prior.sample(500, t, torch.Generator().manual_seed(0)) for t in (0.0, 0.5, 1.0)}
    assert draws[1.0].shape == (500, D)
    torch.testing.assert_close(draws[0.5] - draws[0.0], 0.5 * (draws[1.0] - draws[0.0]))
    assert (draws[1.0] - draws[0.0]).std() > 0.1  # the noise is really there
    assert model.sample(3, 0.5, torch.Generator().manual_seed(0)).shape == (3, *SHAPE)


def test_hierarchical_prior_samples_shrink_with_temperature():
    model, _ = model_with("mog", name="hvae", components=4)
    spread = {t: model.prior.sample(2000, t, torch.Generator().manual_seed(1)).std(0) for t in (0.3, 1.0)}
    assert spread[1.0].shape == (2 * D,)
    assert (spread[0.3] < spread[1.0]).all()


@pytest.mark.parametrize("name", ["vae", "hvae"])
@pytest.mark.parametrize("prior", PRIORS.names())
def test_every_prior_trains_and_round_trips(prior, name, tmp_path):
    """One ELBO step: every parameter (the prior's too) gets a gradient; save/load gives the same p(z).
    Every prior first gets the training inputs, as a fresh run gives them (a no-op for most)."""
    if getattr(PRIORS.get(prior), "needs_labels", False):
        pytest.skip("a prior per class needs a conditional model: tests/models/test_conditional.py covers it")
    model, config = model_with(prior, name, components=0 if prior == "normal" else 3)
    x = (torch.rand(4, *SHAPE, generator=torch.Generator().manual_seed(2)) < 0.5).float()
    model.prior.take_exemplars(lambda: x, torch.Generator().manual_seed(4))
    build_objective(ObjectiveConfig(), model)(model, Batch(x)).loss.backward()
    for parameter_name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().max() > 0, parameter_name
    save_model(tmp_path / "model.safetensors", model, Config(model=config))
    loaded = load_model(tmp_path / "model.safetensors")[0]
    z = model.prior.sample(6, 1.0, torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(loaded.prior_distribution().log_prob(z), model.prior_distribution().log_prob(z))


def test_a_copied_model_uses_its_own_encoder():
    """The VampPrior holds the encoder as a bound method: a deep copy must rebind it to the copy."""
    model, _ = model_with("vamp", components=3)
    twin = copy.deepcopy(model)
    with torch.no_grad():
        for parameter in twin.encoder.parameters():
            parameter.add_(1.0)
    z = torch.randn(4, D)
    assert not torch.allclose(twin.prior_distribution().log_prob(z), model.prior_distribution().log_prob(z))


@pytest.mark.parametrize("prior", ["mog", "vamp"])
def test_free_bits_are_refused_for_mixture_priors(prior):
    model, _ = model_with(prior, components=3)
    x = torch.zeros(2, *SHAPE)
    ELBO()(model, Batch(x))  # the plain ELBO works: Monte Carlo KL
    with pytest.raises(UserError, match="free bits"):
        ELBO(free_bits=0.5)(model, Batch(x))


@pytest.mark.parametrize("prior, components, message", [
    ("normal", 5, r"model.prior: unknown key .components. \(= 5\) for prior .normal.; known keys: name$"),
    ("mog", -1, "model.prior.components must be at least 1, got -1"),
    ("laplace", 0, "unknown prior 'laplace'; known: conditional, exemplar, mog, normal, vamp"),
])
def test_bad_prior_settings_are_user_errors(prior, components, message):
    with pytest.raises(UserError, match=message):
        model_with(prior, components=components)


def test_command_line_trains_with_the_vamp_prior(tmp_path):
    out = tmp_path / "vamp"
    assert main(["train", "--data", "digits", "--prior", "vamp", "--set", "model.prior_components=50", "--epochs", "3",
                 "--batch-size", "64", "--latent-dim", "4", "--set", "model.hidden=[64]", "--set", "train.report=false",
                 "--out", str(out)]) == 0
    rows = read_metrics(out)
    assert float(rows[-1]["train_elbo"]) > float(rows[0]["train_elbo"]) + 1
    assert float(rows[-1]["val_elbo"]) > float(rows[0]["val_elbo"])
    trained = load_model(out / "model.safetensors")[0]
    assert trained.prior.pseudo_inputs.shape == (50, 1, 8, 8)
    assert (out / "samples.png").stat().st_size > 0


@pytest.mark.parametrize("prior", ["mog", "vamp"])
def test_mixture_log_density_is_the_same_in_chunks(prior, monkeypatch):
    """Many points at once (as evaluation asks) are taken in chunks; the values do not change."""
    model, _ = model_with(prior, components=4)
    z = torch.randn(5, 11, D)
    whole = model.prior_distribution().log_prob(z)
    monkeypatch.setattr(priors, "MIXTURE_BUDGET", 4 * 7)  # 7 points per chunk: 8 chunks, the last short
    torch.testing.assert_close(model.prior_distribution().log_prob(z), whole)  # to float32 rounding
    assert whole.shape == (5, 11)


def test_mixture_log_density_in_float32_matches_the_float64_formula_at_evaluation_scales():
    """The matrix form expands the square; with narrow components (scales down to 0.02) far from the
    origin (means up to ~9) it must still agree with the direct float64 formula to 1e-4 nats."""
    torch.manual_seed(3)
    K, dim = 50, 40
    loc = 3.0 + 2.0 * torch.randn(K, dim)
    scale = torch.empty(K, dim).uniform_(0.02, 1.5)
    logits = torch.randn(K)
    z = loc[torch.randint(K, (300,))] + scale[0] * torch.randn(300, dim)  # near some component, as posterior draws are
    value = priors.gaussian_mixture(logits, loc, scale).log_prob(z)
    parts = [log_normal(z.double(), loc[k].double(), scale[k].double()) for k in range(K)]
    direct = (torch.stack(parts) + logits.double().log_softmax(0)[:, None]).logsumexp(0)
    assert value.dtype == torch.float32
    torch.testing.assert_close(value.double(), direct, rtol=0, atol=1e-4)
