"""DIP-VAE (Kumar et al., 2018): the ELBO plus a penalty pulling a covariance of the codes towards
the identity, so the dimensions decorrelate:

    penalty(C) = lambda_od * sum_{i != j} C_ij^2 + lambda_d * sum_i (C_ii - 1)^2,

over the batch: DIP-VAE-I with C = Cov[mu(x)], the covariance of the posterior means; DIP-VAE-II
with C = Cov[mu(x)] + E[diag sigma^2(x)], the covariance of the aggregate posterior q(z). Batch
moments with divisor B, as in disentanglement_lib (which suggests lambda_d = 10 lambda_od for I and
lambda_d = lambda_od for II).
"""

from __future__ import annotations

import torch

from .checks import check_weights, require_gaussian_posterior
from ..data.batch import Batch
from .registry import OBJECTIVES
from .terms import Output, reconstruction_and_kl


def mean_covariance(mu: torch.Tensor) -> torch.Tensor:
    """(D, D) covariance of the rows of mu (B, D), divisor B."""
    centred = mu - mu.mean(0)
    return centred.T @ centred / mu.shape[0]


def dip_penalties(covariance: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(sum of squared off-diagonal entries, sum of squared (diagonal - 1)), 0-dim each."""
    diagonal = covariance.diagonal()
    return covariance.pow(2).sum() - diagonal.pow(2).sum(), (diagonal - 1).pow(2).sum()


class DIPVAE:
    """loss = mean_B[-log p(x|z) + KL] + lambda_od * off_diagonal + lambda_d * diagonal (module
    docstring). Terms, (B,) nats per example: log_px_z, kl, elbo = log_px_z - kl; dip_off_diagonal
    and dip_diagonal, the batch's two sums (the same for every example, unweighted)."""

    compilable = False  # not known to trace cleanly: runs eagerly

    aggregate = False  # DIP-VAE-II adds the posterior variances
    name = "dip_vae_i"

    def __init__(self, *, lambda_od: float = 10.0, lambda_d: float = 100.0):
        check_weights(self.name, lambda_od=lambda_od, lambda_d=lambda_d)
        self.lambda_od, self.lambda_d = lambda_od, lambda_d

    @classmethod
    def check_model(cls, model) -> None:
        require_gaussian_posterior(model, cls.name)

    def beta_at(self, epoch: int) -> float:
        return 1.0

    def __call__(self, model, batch: Batch, beta: float | None = None) -> Output:
        q, _, _, log_px_z, kl = reconstruction_and_kl(model, batch)  # log_px_z, kl (B,)
        covariance = mean_covariance(q.mean)  # (D, D)
        if self.aggregate:
            covariance = covariance + torch.diag(q.variance.mean(0))
        off_diagonal, diagonal = dip_penalties(covariance)
        loss = -log_px_z.mean() + kl.mean() + self.lambda_od * off_diagonal + self.lambda_d * diagonal
        terms = {"log_px_z": log_px_z, "kl": kl, "elbo": log_px_z - kl,
                 "dip_off_diagonal": off_diagonal.expand_as(kl), "dip_diagonal": diagonal.expand_as(kl)}
        return Output(loss, terms)


@OBJECTIVES.register("dip_vae_i")
class DIPVAE1(DIPVAE):
    """DIP-VAE-I: the covariance of the posterior means (see DIPVAE)."""


@OBJECTIVES.register("dip_vae_ii")
class DIPVAE2(DIPVAE):
    """DIP-VAE-II: the covariance of the aggregate posterior (see DIPVAE)."""

    aggregate = True
    name = "dip_vae_ii"
