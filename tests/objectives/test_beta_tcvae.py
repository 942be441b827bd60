"""beta-TCVAE's estimators of log q(z) and the product of its marginals, against closed forms: the
total correlation of a correlated Gaussian aggregate posterior, 0 for independent codes, the MSS
weights on the diagonal, the decomposition summing to the KL, and N taken from the training set."""

import math

import pytest
import torch
from torch.distributions import Independent, Normal

from vaekit import ObjectiveConfig, UserError, build_objective
from vaekit.data.array import ArrayData
from vaekit.data.batch import Batch
from vaekit.objectives.beta_tcvae import aggregate_log_densities, mss_log_weights
from vaekit.training.batches import ResidentBatches
from vaekit.training.trainer import Trainer, make_optimizer, make_schedule

POPULATION = 10**6  # N: the batches below are drawn from a population much larger than any batch
VARIANCE = 0.3  # of each posterior q(z|x) = N(mu(x), VARIANCE I)


def correlation(d: int, rho: float) -> torch.Tensor:
    """(d, d) covariance with unit variances and correlation rho everywhere off the diagonal."""
    return (torch.full((d, d), rho) + (1 - rho) * torch.eye(d)).double()


def gaussian_tc(covariance: torch.Tensor) -> float:
    """The closed-form total correlation of N(0, S): (sum_d log S_dd - log det S) / 2, nats."""
    return float(0.5 * (covariance.diagonal().log().sum() - torch.logdet(covariance)))


def tc_errors(covariance, batch: int, estimator: str, repeats: int = 4) -> list[float]:
    """Estimate minus closed form of the batch-mean TC, over ``repeats`` batches whose posteriors
    N(mu, VARIANCE I) have means mu ~ N(0, S - VARIANCE I): the aggregate posterior is N(0, S)."""
    d = len(covariance)
    root = torch.linalg.cholesky(covariance - VARIANCE * torch.eye(d, dtype=torch.float64))
    generator = torch.Generator().manual_seed(batch)
    offset = (d - 1) * math.log(POPULATION) if estimator == "mws" else 0.0  # MWS reads log q(z) low by log N
    errors = []
    for _ in range(repeats):
        mu = torch.randn(batch, d, generator=generator, dtype=torch.float64) @ root.T
        scale = torch.full_like(mu, math.sqrt(VARIANCE))
        z = mu + scale * torch.randn(batch, d, generator=generator, dtype=torch.float64)
        log_qz, log_qz_product = aggregate_log_densities(z, mu, scale, POPULATION, estimator)
        errors.append(float((log_qz - log_qz_product).mean()) - offset - gaussian_tc(covariance))
    return errors


@pytest.mark.parametrize("estimator", ["mss", "mws"])
@pytest.mark.parametrize("rho", [0.6, 0.0])
def test_tc_estimate_converges_to_the_closed_form_as_the_batch_grows(estimator, rho):
    covariance = correlation(3, rho)
    assert gaussian_tc(covariance) == pytest.approx(0.5220621, abs=1e-6) if rho else gaussian_tc(covariance) == 0
    small = sum(map(abs, tc_errors(covariance, 64, estimator))) / 4
    large = sum(map(abs, tc_errors(covariance, 1024, estimator))) / 4
    assert large < 0.05  # about 3 standard errors of a batch of 1024 here
    assert large < small / 2  # the error shrinks like 1 / sqrt(batch): 4x from 64 to 1024


def test_mss_weights_sit_on_the_diagonal_and_each_row_sums_to_one():
    n, batch = 1000, 6
    weights = mss_log_weights(batch, n, torch.zeros((), dtype=torch.float64)).exp()
    m = batch - 1
    torch.testing.assert_close(weights.diagonal(), torch.full((batch,), 1 / n, dtype=torch.float64))
    torch.testing.assert_close(weights.sum(1), torch.ones(batch, dtype=torch.float64))
    off = weights[~torch.eye(batch, dtype=torch.bool)].view(batch, m)
    assert ((off - (n - m) / (n * m)).abs() < 1e-15).sum(1).tolist() == [1] * batch  # one stratum weight per row
    assert ((off - 1 / m).abs() < 1e-15).sum(1).tolist() == [m - 1] * batch


def test_far_apart_posteriors_have_the_largest_mutual_information_log_n_for_every_example():
    """Each z_i lies where only its own posterior has mass, so q(z_i) = q(z_i|x_i) / N and the
    index-code MI is log N for every example; weights on column 0 would give log M for all but one."""
    n, batch, d = 5000, 8, 2
    mu = 100.0 * torch.arange(batch, dtype=torch.float64).unsqueeze(1).expand(batch, d)
    scale = torch.full_like(mu, 0.1)
    z = mu + 0.05
    log_qz, _ = aggregate_log_densities(z, mu, scale, n, "mss")
    log_qz_x = Independent(Normal(mu, scale), 1).log_prob(z)
    torch.testing.assert_close(log_qz_x - log_qz, torch.full((batch,), math.log(n), dtype=torch.float64))


@pytest.mark.parametrize("estimator", ["mss", "mws"])
def test_decomposition_sums_to_the_kl_and_unit_weights_give_the_elbo(vae, x, estimator):
    objective = build_objective(ObjectiveConfig(name="beta_tcvae", tc_estimator=estimator), vae)
    objective.prepare(1000)
    torch.manual_seed(3)
    output = objective(vae, Batch(x))
    torch.manual_seed(3)
    q = vae.encode(x)
    z = q.rsample()
    one_sample_kl = q.log_prob(z) - vae.prior_distribution().log_prob(z)
    terms = output.terms
    torch.testing.assert_close(terms["mi"] + terms["tc"] + terms["dimension_kl"], one_sample_kl, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(terms["kl"], one_sample_kl, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(output.loss, -(terms["log_px_z"] - terms["kl"]).mean(), rtol=1e-12, atol=1e-12)
    assert terms["mi"].abs().mean() > 1e-2 and terms["tc"].abs().mean() > 1e-2  # three parts, none trivially 0


def test_the_trainer_gives_the_training_set_size_not_the_batch_size(vae):
    data = ArrayData(torch.randn(100, 6), labels=None, name="constructed")
    objective = build_objective(ObjectiveConfig(name="beta_tcvae"), vae.float())
    optimizer = make_optimizer(vae, 1e-3, torch.device("cpu"))
    config = type("TrainSettings", (), {"epochs": 1, "grad_clip": 0.0, "patience": 0})()
    Trainer(vae, objective, config, optimizer, make_schedule(optimizer, "constant", 1), compile=False).fit(
        ResidentBatches(data, 16))
    assert objective.data_size == 100


def test_without_the_training_set_size_the_objective_says_how_to_give_it(vae, x):
    objective = build_objective(ObjectiveConfig(name="beta_tcvae"), vae)
    with pytest.raises(UserError, match="needs the training set size N"):
        objective(vae, Batch(x))
    objective.prepare(len(x) - 1)
    with pytest.raises(UserError, match="at least as large as the batch"):
        objective(vae, Batch(x))
