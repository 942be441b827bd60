"""DIP-VAE I and II (objectives/dip_vae.py): the penalties are the covariance of the means or of the
aggregate posterior."""

import pytest
import torch

from vaekit import ObjectiveConfig, build_objective
from vaekit.data.batch import Batch


@pytest.mark.parametrize("name", ["dip_vae_i", "dip_vae_ii"])
def test_dip_penalties_are_the_covariance_of_the_means_or_of_the_aggregate_posterior(vae, x, name):
    objective = build_objective(ObjectiveConfig(name=name, lambda_od=3.0, lambda_d=5.0), vae)
    torch.manual_seed(0)
    output = objective(vae, Batch(x))
    q = vae.encode(x)
    covariance = torch.cov(q.mean.T, correction=0)  # (D, D): the batch covariance of the posterior means
    if name == "dip_vae_ii":  # Cov[z] under q(z) = Cov[mu] + E[diag sigma^2]
        covariance = covariance + torch.diag(q.variance.mean(0))
    off = sum(covariance[i, j] ** 2 for i in range(3) for j in range(3) if i != j)
    diagonal = sum((covariance[i, i] - 1) ** 2 for i in range(3))
    torch.testing.assert_close(output.terms["dip_off_diagonal"][0], off, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(output.terms["dip_diagonal"][0], diagonal, rtol=1e-10, atol=1e-12)
    elbo_loss = -(output.terms["elbo"]).mean()
    torch.testing.assert_close(output.loss, elbo_loss + 3.0 * off + 5.0 * diagonal, rtol=1e-10, atol=1e-10)
