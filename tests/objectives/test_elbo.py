"""The objectives' arithmetic: beta, KL warm-up, free bits, the autoencoder's L2 loss, and the
combinations that must be refused. Same-seed comparisons make the sampled z identical."""

import math

import oracles
import pytest
import torch

from vaekit import ELBO, ModelConfig, ObjectiveConfig, Reconstruction, UserError, build_model, build_objective
from vaekit.data.batch import Batch


def seeded_call(objective, model, x, seed=0, **kwargs):
    """objective(model, Batch(x)) after seeding, so two calls draw the same z."""
    torch.manual_seed(seed)
    return objective(model, Batch(x), **kwargs)


@pytest.fixture
def x():
    return torch.randn(10, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)


def test_beta_zero_elbo_is_the_reconstruction_loss(vae, x):
    elbo = seeded_call(ELBO(beta=0.0), vae, x)
    reconstruction = seeded_call(Reconstruction(), vae, x)  # on a VAE it uses q's sample too
    torch.testing.assert_close(elbo.loss, reconstruction.loss, rtol=0, atol=0)
    torch.testing.assert_close(elbo.terms["log_px_z"], reconstruction.terms["log_px_z"], rtol=0, atol=0)
    assert not torch.equal(seeded_call(ELBO(beta=1.0), vae, x).loss, reconstruction.loss)  # KL > 0 here


@pytest.mark.parametrize("beta", [0.5, 1.0, 4.0])
def test_beta_scales_exactly_the_kl_part(vae, x, beta):
    base = seeded_call(ELBO(beta=0.0), vae, x)
    kl_mean = base.terms["kl"].mean()
    assert kl_mean > 0
    constructed = seeded_call(ELBO(beta=beta), vae, x).loss
    overridden = seeded_call(ELBO(beta=1.0), vae, x, beta=beta).loss  # the trainer passes beta per epoch
    torch.testing.assert_close(constructed - base.loss, beta * kl_mean, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(overridden, constructed, rtol=0, atol=0)


def test_reported_terms_do_not_depend_on_beta(vae, x):
    """beta weights the loss only; the reported ELBO stays the true ELBO."""
    low, high = seeded_call(ELBO(beta=0.1), vae, x), seeded_call(ELBO(beta=5.0), vae, x)
    for name in ("log_px_z", "kl", "elbo"):
        torch.testing.assert_close(low.terms[name], high.terms[name], rtol=0, atol=0)
    torch.testing.assert_close(high.terms["elbo"], high.terms["log_px_z"] - high.terms["kl"], rtol=0, atol=0)


def test_kl_warmup_is_linear_from_zero_to_the_target():
    target, epochs = 2.0, 4
    objective = ELBO(beta=target, warmup_epochs=epochs)
    assert objective.beta_at(0) == 0.0
    assert objective.beta_at(epochs) == target
    for epoch in range(epochs + 1):
        assert objective.beta_at(epoch) == pytest.approx(target * epoch / epochs)
    assert objective.beta_at(epochs + 5) == target  # stays at the target afterwards
    assert ELBO(beta=target).beta_at(0) == target  # no warm-up: the target from the start


def free_bits_model():
    """A VAE whose posterior is set by hand: mu = (0, x_0, 2), log var = 0, over 4-dim data."""
    model = oracles.build_model(oracles.linear_gaussian(d=4, latent_dim=3))
    weight = torch.zeros(6, 4, dtype=torch.float64)
    weight[1, 0] = 1.0  # mu_1 = x_0: a dimension whose KL varies between examples
    bias = torch.tensor([0.0, 0.0, 2.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    with torch.no_grad():
        model.head.linear.weight.copy_(weight)
        model.head.linear.bias.copy_(bias)
    return model


def test_free_bits_floor_the_batch_mean_kl_of_each_dimension():
    model, floor = free_bits_model(), 0.5
    x = torch.randn(4, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    x[:, 0] = torch.tensor([0.2, 0.4, 0.6, 1.6])  # KL of dim 1 per example: 0.5 * x_0^2
    with torch.no_grad():
        q = model.encode(x)
    per_dimension = 0.5 * (q.mean**2 + q.variance - q.variance.log() - 1)  # (B, D), closed form
    batch_mean = per_dimension.mean(0)  # (D,): 0, 0.39, 2
    assert batch_mean[0] < floor and batch_mean[1] < floor < batch_mean[2]  # the case the test needs
    expected = batch_mean.clamp(min=floor).sum()
    per_example_floor = per_dimension.clamp(min=floor).mean(0).sum()  # the wrong order of mean and max
    assert abs(float(expected - per_example_floor)) > 0.1  # so the test tells the two apart

    for beta in (1.0, 2.0):
        output = seeded_call(ELBO(beta=beta, free_bits=floor), model, x)
        kl_loss = (output.loss + output.terms["log_px_z"].mean()) / beta
        torch.testing.assert_close(kl_loss, expected, rtol=1e-12, atol=1e-12)
        # The reported KL is the true one, never floored.
        torch.testing.assert_close(output.terms["kl"], per_dimension.sum(-1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(5,), (1, 4, 4)])
def test_autoencoder_with_unit_gaussian_is_half_squared_error_plus_constant(shape):
    torch.manual_seed(0)
    model = build_model(ModelConfig(name="ae", latent_dim=2, hidden=(8,), likelihood="gaussian", sigma=1.0), shape)
    objective = build_objective(ObjectiveConfig(), model)
    assert isinstance(objective, Reconstruction)
    x = torch.randn(6, *shape)
    output = objective(model, Batch(x))
    d = math.prod(shape)
    squared_error = ((x - model.reconstruct(x)) ** 2).flatten(1).sum(1)  # (B,): summed, not averaged
    expected = 0.5 * squared_error + 0.5 * d * math.log(2 * math.pi)
    torch.testing.assert_close(-output.terms["log_px_z"], expected)
    torch.testing.assert_close(output.loss, expected.mean())


def test_elbo_on_an_autoencoder_is_refused():
    ae = build_model(ModelConfig(name="ae", latent_dim=2, hidden=(8,), likelihood="gaussian"), (5,))
    with pytest.raises(UserError, match="prior"):
        build_objective(ObjectiveConfig(name="elbo"), ae)


@pytest.mark.parametrize("option", [{"beta": 2.0}, {"warmup_epochs": 3}, {"free_bits": 0.1}])
def test_reconstruction_refuses_kl_options(vae, option):
    with pytest.raises(UserError, match="reconstruction"):
        build_objective(ObjectiveConfig(name="reconstruction", **option), vae)


@pytest.mark.parametrize("option", [{"beta": -1.0}, {"warmup_epochs": -1}, {"free_bits": -0.5}])
def test_elbo_refuses_negative_options(option):
    with pytest.raises(UserError):
        ELBO(**option)
