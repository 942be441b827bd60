"""Priors p(z) as modules, so that later priors (mixtures, VampPrior) can learn."""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Distribution, Independent, Normal

from .registry import Registry

PRIORS: Registry = Registry("prior")


@PRIORS.register("normal")
class StandardNormal(nn.Module):
    """N(0, I) over z of shape (latent_dim,)."""

    def __init__(self, latent_dim: int, config=None):
        super().__init__()
        self.register_buffer("loc", torch.zeros(latent_dim))
        self.register_buffer("scale", torch.ones(latent_dim))

    def forward(self) -> Distribution:
        return Independent(Normal(self.loc, self.scale, validate_args=False), 1, validate_args=False)

    def sample(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, latent_dim) draws; temperature scales the standard deviation."""
        noise = torch.randn(n, self.loc.numel(), generator=generator, device=self.loc.device)
        return self.loc + temperature * self.scale * noise


def build_prior(config) -> nn.Module:
    return PRIORS.get(config.prior)(config.latent_dim, config)
