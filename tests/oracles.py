"""Exact oracles for the tests: a linear-Gaussian model (probabilistic PCA) built from vaekit parts.

    z ~ N(0, I_D),   x | z ~ N(W z + b, sigma^2 I_d)
    p(x)   = N(x; b, W W^T + sigma^2 I)
    p(z|x) = N(M^-1 W^T (x - b), sigma^2 M^-1),   M = W^T W + sigma^2 I

W has orthogonal columns, so M is diagonal and the exact posterior is a diagonal Gaussian that
vaekit's ``GaussianHead`` represents exactly (mean linear in x, constant log-variance). Everything
is float64 so identities hold to ~1e-10.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.distributions import Independent, MultivariateNormal, Normal

from vaekit.models.heads import GaussianHead
from vaekit.models.likelihoods import FixedGaussian
from vaekit.models.model import LatentVariableModel
from vaekit.models.priors import StandardNormal

DTYPE = torch.float64


class FlatEncoder(nn.Module):
    """x (B, d) -> features (B, d): the identity, so the head's linear layer is the whole encoder."""

    def __init__(self, features: int):
        super().__init__()
        self.out_features = features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)


class LinearDecoder(nn.Module):
    """z (N, D) -> Gaussian means (N, 1, d): W z + b, in the (params, *data_shape) layout of likelihoods."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor):
        super().__init__()
        self.linear = nn.Linear(weight.shape[1], weight.shape[0], dtype=weight.dtype)
        with torch.no_grad():
            self.linear.weight.copy_(weight)
            self.linear.bias.copy_(bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.linear(z).unsqueeze(1)


@dataclass
class LinearGaussian:
    """The generative model's parameters: W (d, D) with orthogonal columns, b (d,), noise sigma."""

    W: torch.Tensor
    b: torch.Tensor
    sigma: float

    @property
    def d(self) -> int:
        return self.W.shape[0]

    @property
    def latent_dim(self) -> int:
        return self.W.shape[1]

    def marginal(self) -> MultivariateNormal:
        """p(x) = N(b, W W^T + sigma^2 I), event shape (d,)."""
        covariance = self.W @ self.W.T + self.sigma**2 * torch.eye(self.d, dtype=DTYPE)
        return MultivariateNormal(self.b, covariance_matrix=covariance)

    def log_px(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log p(x) (B,), nats."""
        return self.marginal().log_prob(x)

    def sample(self, n: int, seed: int = 0) -> torch.Tensor:
        """(n, d) draws from p(x), from a private generator (the global RNG is left alone)."""
        generator = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.latent_dim, generator=generator, dtype=DTYPE)
        noise = torch.randn(n, self.d, generator=generator, dtype=DTYPE)
        return z @ self.W.T + self.b + self.sigma * noise

    def m_diagonal(self) -> torch.Tensor:
        """diag(M) (D,), M = W^T W + sigma^2 I (diagonal because W's columns are orthogonal)."""
        return (self.W**2).sum(0) + self.sigma**2

    def posterior_linear(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(A (D, d), c (D,), log_var (D,)) with exact posterior mean A x + c and variance exp(log_var)."""
        m = self.m_diagonal()
        A = self.W.T / m[:, None]  # M^-1 W^T
        return A, -A @ self.b, torch.log(self.sigma**2 / m)

    def exact_posterior(self, x: torch.Tensor) -> Independent:
        """p(z|x): batch (B,), event (D,)."""
        A, c, log_var = self.posterior_linear()
        mean = x @ A.T + c  # (B, D)
        return Independent(Normal(mean, (0.5 * log_var).exp().expand_as(mean)), 1)

    def expected_log_px_z(self, q: Independent, x: torch.Tensor) -> torch.Tensor:
        """E_q[log p(x|z)] (B,) in closed form for a diagonal Gaussian q with mean m, variance v:
        -d/2 log(2 pi sigma^2) - (||x - W m - b||^2 + sum_j ||W_j||^2 v_j) / (2 sigma^2)."""
        residual = x - q.mean @ self.W.T - self.b  # (B, d)
        spread = (q.variance * (self.W**2).sum(0)).sum(-1)  # (B,)
        squares = (residual**2).sum(-1) + spread
        return -0.5 * self.d * math.log(2 * math.pi * self.sigma**2) - squares / (2 * self.sigma**2)


def linear_gaussian(d: int = 6, latent_dim: int = 3, sigma: float = 0.5, seed: int = 0) -> LinearGaussian:
    """A random model with orthogonal, differently scaled columns of W (so no direction is special)."""
    generator = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(d, latent_dim, generator=generator, dtype=DTYPE))  # orthonormal columns
    scales = torch.linspace(2.0, 0.7, latent_dim, dtype=DTYPE)
    b = torch.randn(d, generator=generator, dtype=DTYPE)
    return LinearGaussian(Q * scales, b, sigma)


def build_model(oracle: LinearGaussian, mean_shift: float = 0.0, log_var_shift: float = 0.0) -> LatentVariableModel:
    """The oracle as a vaekit model whose encoder gives the exact posterior, optionally perturbed.

    mean_shift adds that much (times a fixed pattern) to the posterior mean map, log_var_shift to
    the log-variance: (0, 0) is exact; anything else is an approximate posterior q != p(z|x).
    """
    D, d = oracle.latent_dim, oracle.d
    head = GaussianHead(d, D).to(DTYPE)
    A, c, log_var = oracle.posterior_linear()
    pattern = torch.linspace(-1.0, 1.0, D * d, dtype=DTYPE).view(D, d)  # deterministic perturbation
    with torch.no_grad():
        head.linear.weight.copy_(torch.cat([A + mean_shift * pattern, torch.zeros(D, d, dtype=DTYPE)]))
        head.linear.bias.copy_(torch.cat([c + mean_shift, log_var + log_var_shift]))
    likelihood = FixedGaussian((d,), sigma=oracle.sigma).to(DTYPE)
    prior = StandardNormal(D).to(DTYPE)
    decoder = LinearDecoder(oracle.W, oracle.b)
    return LatentVariableModel(FlatEncoder(d), head, decoder, likelihood, prior, (d,), "elbo")


def approximate_model(oracle: LinearGaussian) -> LatentVariableModel:
    """A clearly imperfect posterior (shifted mean, too-narrow variance), as a trained encoder would be."""
    return build_model(oracle, mean_shift=0.3, log_var_shift=-0.7)
