"""KL(q(z|x) || p(z)) of the model's own posterior and prior: closed form, torch.distributions,
Monte Carlo, and the objective's ``kl_per_example`` / ``kl_per_dimension`` all agree."""

import math

import pytest
import torch
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal, kl_divergence

from vaekit import ModelConfig, build_model
from vaekit.objectives import kl_per_dimension, kl_per_example


@pytest.fixture
def posterior_and_prior():
    """q (batch 16, event 4) from a small untrained VAE (float64), with its prior p."""
    torch.manual_seed(0)
    model = build_model(ModelConfig(latent_dim=4, hidden=(16,), likelihood="gaussian"), (7,)).double()
    with torch.no_grad():
        model.head.linear.bias.add_(torch.linspace(-1, 1, 8, dtype=torch.float64))  # spread mu and log var
    x = 2 * torch.randn(16, 7, dtype=torch.float64)
    with torch.no_grad():
        return model.encode(x), model.prior_distribution()


def closed_form_kl(q) -> torch.Tensor:
    """0.5 * sum_j (mu^2 + sigma^2 - log sigma^2 - 1), (B,): KL of a diagonal Gaussian from N(0, I)."""
    mu, var = q.mean, q.variance
    return 0.5 * (mu**2 + var - var.log() - 1).sum(-1)


def test_closed_form_equals_torch_distributions(posterior_and_prior):
    q, p = posterior_and_prior
    expected = closed_form_kl(q)
    assert expected.shape == (16,)
    assert (expected > 0).all()  # the posterior is not the prior, so the test is not 0 == 0
    torch.testing.assert_close(kl_divergence(q, p), expected, rtol=1e-12, atol=1e-12)


def test_closed_form_agrees_with_monte_carlo(posterior_and_prior):
    q, p = posterior_and_prior
    samples = 20_000
    torch.manual_seed(1)
    z = q.sample((samples,))  # (S, B, D)
    log_ratio = q.log_prob(z) - p.log_prob(z)  # (S, B)
    estimate = log_ratio.mean(0)
    standard_error = log_ratio.std(0) / math.sqrt(samples)
    # 5 standard errors: a per-example failure rate of ~6e-7, yet a wrong KL (e.g. a missing 0.5,
    # or sigma in place of sigma^2) is off by far more than that.
    assert ((estimate - closed_form_kl(q)).abs() < 5 * standard_error).all()


def test_kl_per_example_uses_the_closed_form(posterior_and_prior):
    q, p = posterior_and_prior
    z = q.sample()
    torch.testing.assert_close(kl_per_example(q, p, z), closed_form_kl(q), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(kl_per_example(q, p, z), kl_divergence(q, p), rtol=0, atol=0)


def test_kl_per_example_falls_back_to_the_one_sample_estimate(posterior_and_prior):
    """A prior with no registered KL (a one-component mixture: the same density as N(0, I))."""
    q, p = posterior_and_prior
    one_component = Independent(Normal(torch.zeros(1, 4, dtype=torch.float64), torch.ones(1, 4, dtype=torch.float64)), 1)
    mixture = MixtureSameFamily(Categorical(logits=torch.zeros(1, dtype=torch.float64)), one_component)
    with pytest.raises(NotImplementedError):
        kl_divergence(q, mixture)
    torch.manual_seed(2)
    z = q.sample((4000,))  # (S, B, D)
    estimate = kl_per_example(q, mixture, z)  # (S, B)
    torch.testing.assert_close(estimate, q.log_prob(z) - p.log_prob(z), rtol=1e-12, atol=1e-12)
    standard_error = estimate.std(0) / math.sqrt(len(z))
    assert ((estimate.mean(0) - closed_form_kl(q)).abs() < 5 * standard_error).all()  # unbiased


def test_kl_per_dimension_sums_to_the_total(posterior_and_prior):
    q, p = posterior_and_prior
    per_dimension = kl_per_dimension(q, p)
    mu, var = q.mean, q.variance
    assert per_dimension.shape == (16, 4)
    torch.testing.assert_close(per_dimension, 0.5 * (mu**2 + var - var.log() - 1), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(per_dimension.sum(-1), closed_form_kl(q), rtol=1e-12, atol=1e-12)
