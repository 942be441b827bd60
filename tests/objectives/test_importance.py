"""The ELBO against the exact log p(x) of a linear-Gaussian model (probabilistic PCA).

ELBO = log p(x) - KL(q(z|x) || p(z|x)): a bound for any posterior, tight for the exact one.
"""

import math

import oracles
import torch
from torch.distributions import kl_divergence

from vaekit import ELBO
from vaekit.data.batch import Batch
from vaekit.objectives.importance import log_weights


def closed_form_elbo(oracle, model, x) -> torch.Tensor:
    """E_q[log p(x|z)] - KL(q || p(z)), (B,) nats, with no Monte Carlo noise."""
    q = model.encode(x)
    return oracle.expected_log_px_z(q, x) - kl_divergence(q, model.prior_distribution())


def repeated_elbo(model, x, samples: int) -> torch.Tensor:
    """(S, B): the objective's one-sample ELBO term for S independent draws per example, in one
    batch (x tiled S times) rather than S calls."""
    return ELBO()(model, Batch(x.repeat(samples, 1))).terms["elbo"].view(samples, len(x))


def test_the_encoder_represents_the_exact_posterior(oracle, oracle_x):
    """Guards the oracle itself: the head's diagonal Gaussian is p(z|x), not an approximation."""
    q, exact = oracles.build_model(oracle).encode(oracle_x), oracle.exact_posterior(oracle_x)
    torch.testing.assert_close(q.mean, exact.mean, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(q.variance, exact.variance, rtol=1e-12, atol=1e-12)


@torch.no_grad()
def test_elbo_is_below_log_px_for_an_approximate_posterior(oracle, oracle_x):
    model = oracles.approximate_model(oracle)
    elbo, log_px = closed_form_elbo(oracle, model, oracle_x), oracle.log_px(oracle_x)
    assert (elbo < log_px - 1e-3).all()  # strictly below, per example: q is not the posterior
    # The gap is exactly KL(q || p(z|x)): checks both sides of the bound, not just its direction.
    gap = kl_divergence(model.encode(oracle_x), oracle.exact_posterior(oracle_x))
    torch.testing.assert_close(log_px - elbo, gap, rtol=1e-10, atol=1e-10)


@torch.no_grad()
def test_the_objectives_elbo_estimates_the_closed_form(oracle, oracle_x):
    """The ELBO objective's per-example term is unbiased for the closed-form ELBO."""
    model, samples = oracles.approximate_model(oracle), 4000
    torch.manual_seed(0)
    estimates = repeated_elbo(model, oracle_x, samples)  # (S, B)
    standard_error = estimates.std(0) / math.sqrt(samples)
    assert ((estimates.mean(0) - closed_form_elbo(oracle, model, oracle_x)).abs() < 5 * standard_error).all()


@torch.no_grad()
def test_elbo_equals_log_px_with_the_exact_posterior(oracle, oracle_x):
    model, log_px = oracles.build_model(oracle), oracle.log_px(oracle_x)
    torch.testing.assert_close(closed_form_elbo(oracle, model, oracle_x), log_px, rtol=1e-10, atol=1e-10)
    # log w = log p(x|z) + log p(z) - log q(z|x) = log p(x) for every z: one draw is already exact.
    torch.manual_seed(0)
    one_draw = log_weights(model, oracle_x, 1)[0]  # (B,)
    torch.testing.assert_close(one_draw, log_px, rtol=1e-10, atol=1e-10)
    many_draws = log_weights(model, oracle_x, 100)  # (100, B): constant in z
    torch.testing.assert_close(many_draws, log_px.expand_as(many_draws), rtol=1e-10, atol=1e-10)


@torch.no_grad()
def test_objective_elbo_averages_to_log_px_with_the_exact_posterior(oracle, oracle_x):
    """The objective uses the closed-form KL and one-sample log p(x|z), so single values scatter,
    but their mean is log p(x) within Monte Carlo error."""
    model, samples = oracles.build_model(oracle), 4000
    torch.manual_seed(1)
    estimates = repeated_elbo(model, oracle_x, samples)  # (S, B)
    standard_error = estimates.std(0) / math.sqrt(samples)
    assert ((estimates.mean(0) - oracle.log_px(oracle_x)).abs() < 5 * standard_error).all()
