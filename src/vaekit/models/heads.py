"""Posterior heads: encoder features (B, F) -> q(z|x), a distribution over z (B, latent_dim)."""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Distribution, Independent, Normal, constraints


class GaussianHead(nn.Module):
    """Diagonal Gaussian q(z|x) = N(mu, diag(sigma^2)); one linear layer gives mu and log sigma^2.

    ``rsample`` is the reparameterisation z = mu + sigma * eps, so gradients reach mu and sigma.
    """

    def __init__(self, features: int, latent_dim: int):
        super().__init__()
        self.linear = nn.Linear(features, 2 * latent_dim)

    def forward(self, h: torch.Tensor) -> Distribution:
        mu, log_var = self.linear(h).chunk(2, dim=-1)  # (B, D) each
        return Independent(Normal(mu, (0.5 * log_var).exp(), validate_args=False), 1, validate_args=False)


class PointMass(Distribution):
    """All mass at ``value`` (B, D): the 'posterior' of a deterministic autoencoder."""

    arg_constraints = {"value": constraints.real}
    has_rsample = True

    def __init__(self, value: torch.Tensor):
        self.value = value
        super().__init__(value.shape[:-1], value.shape[-1:], validate_args=False)

    @property
    def mean(self) -> torch.Tensor:
        return self.value

    @property
    def variance(self) -> torch.Tensor:
        return torch.zeros_like(self.value)

    def rsample(self, sample_shape=torch.Size()) -> torch.Tensor:
        return self.value.expand(torch.Size(sample_shape) + self.value.shape)


class PointHead(nn.Module):
    """Deterministic encoder output z = W h + b, wrapped as a point mass."""

    def __init__(self, features: int, latent_dim: int):
        super().__init__()
        self.linear = nn.Linear(features, latent_dim)

    def forward(self, h: torch.Tensor) -> Distribution:
        return PointMass(self.linear(h))
