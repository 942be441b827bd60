"""Priors p(z) as modules, so that they can learn: the standard normal, a learnable mixture of
Gaussians, and the VampPrior (Tomczak and Welling, 2018).

Every prior gives ``forward() -> Distribution`` over z (event shape (latent_dim,)) and
``sample(n, temperature, generator) -> (n, latent_dim)``, where temperature scales the standard
deviations (of each component, for mixtures). The mixtures are ``MixtureSameFamily`` over
``Independent(Normal)``, so ``log_prob`` is exact; their KL to a Gaussian posterior has no closed
form, and the ELBO uses the Monte Carlo estimate of ``objectives.kl_per_example``.

A prior's constructor takes the context ``(latent_dim, classes)`` (classes: of a conditional model, 0
otherwise) and its options as keyword-only arguments (``model.prior.components``).

A prior that needs the model (the VampPrior encodes its pseudo-inputs with the model's encoder)
receives it through ``bind(encode, data_shape)``, which the model calls once when it is composed.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn
from torch.distributions import Categorical, Distribution, Independent, MixtureSameFamily, Normal

from ..config.section import Section
from ..errors import UserError
from .registry import PRIORS

# Elements of the (points, K) matrix of component log-densities a mixture's log_prob holds at once:
# 2^22 float32 = 16 MiB, a few times a CPU's last-level cache. Evaluation asks for k * B points at a
# time (tens of thousands; 5e7 in all at K = 5,000 on 10,000 images), so the points go in chunks.
MIXTURE_BUDGET = 2**22


class Prior(nn.Module):
    """Base class: ``forward`` gives p(z); ``bind`` is a no-op for priors that do not use the model.
    ``needs_labels``: False here; True for p(z|y), whose ``forward`` and ``sample`` take labels."""

    needs_labels = False

    def bind(self, encode: Callable[[torch.Tensor], Distribution], data_shape: tuple[int, ...]) -> None:
        """Called by the model once composed: ``encode(x)`` is q(z|x) for x (N, *data_shape)."""

    def take_exemplars(self, train_inputs: Callable[[], torch.Tensor], generator: torch.Generator) -> None:
        """Called once before the first step of a fresh run (not on resume): ``train_inputs()`` gives
        the training split (N, *data_shape) in model input units, ``generator`` a seeded CPU
        generator. A no-op here; the exemplar prior (exemplar.py) draws its exemplars from them."""


@PRIORS.register("normal")
class StandardNormal(Prior):
    """N(0, I) over z of shape (latent_dim,)."""

    def __init__(self, latent_dim: int, classes: int = 0):
        super().__init__()
        self.register_buffer("loc", torch.zeros(latent_dim))
        self.register_buffer("scale", torch.ones(latent_dim))

    def forward(self) -> Distribution:
        return Independent(Normal(self.loc, self.scale, validate_args=False), 1, validate_args=False)

    def sample(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, latent_dim) draws; temperature scales the standard deviation."""
        noise = torch.randn(n, self.loc.numel(), generator=generator, device=self.loc.device)
        return self.loc + temperature * self.scale * noise


@PRIORS.register("mog")
class MixtureOfGaussians(Prior):
    """sum_k pi_k N(mu_k, diag(sigma_k^2)) with learnable logits (K,), means and log-scales (K, D).

    The means start as N(0, I) draws, so the components start apart and inside the region a
    standard normal prior would cover; the scales start at 1 and the weights uniform.
    """

    def __init__(self, latent_dim: int, classes: int = 0, *, components: int = 10):
        super().__init__()
        count = check_components(components)
        self.logits = nn.Parameter(torch.zeros(count))
        self.loc = nn.Parameter(torch.randn(count, latent_dim))
        self.log_scale = nn.Parameter(torch.zeros(count, latent_dim))

    def forward(self) -> Distribution:
        return gaussian_mixture(self.logits, self.loc, self.log_scale.exp())

    def sample(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, latent_dim): a component per draw, then its Gaussian with scale times temperature."""
        return sample_mixture(self(), n, temperature, generator)


@PRIORS.register("vamp")
class VampPrior(Prior):
    """p(z) = (1/K) sum_k q(z|u_k): the model's own posterior at K learnable pseudo-inputs u_k.

    The pseudo-inputs have the data's shape (K, *data_shape) and are created by ``bind``; they start
    at N(0.05, 0.01^2) values as in the paper's code: inside [0, 1] for binary and grey-level data,
    and near the centre of standardised real data. They are free parameters (not clipped), since
    the encoder accepts any real input.
    """

    def __init__(self, latent_dim: int, classes: int = 0, *, components: int = 500):
        super().__init__()
        self.count = check_components(components)
        self.latent_dim = latent_dim
        self.encode = None  # the model's q(z|x), set by bind; a plain attribute, not a submodule (no cycle)

    def bind(self, encode, data_shape) -> None:
        self.encode = encode
        if not hasattr(self, "pseudo_inputs"):
            self.pseudo_inputs = nn.Parameter(0.05 + 0.01 * torch.randn(self.count, *data_shape))

    def forward(self) -> Distribution:
        if self.encode is None:
            raise RuntimeError("the VampPrior needs the model's encoder: build it through a model (bind)")
        q = self.encode(self.pseudo_inputs)  # batch (K,), event (D,)
        uniform = torch.zeros(self.count, dtype=self.pseudo_inputs.dtype, device=self.pseudo_inputs.device)
        return ChunkedMixture(Categorical(logits=uniform, validate_args=False), q, validate_args=False)

    def sample(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, latent_dim): a pseudo-input per draw, then its posterior with scale times temperature."""
        return sample_mixture(self(), n, temperature, generator)


def check_components(count: int) -> int:
    """``count``, the K of a mixture prior, or a UserError naming model.prior.components."""
    if count < 1:
        raise UserError(f"model.prior.components must be at least 1, got {count}")
    return count


class ChunkedMixture(MixtureSameFamily):
    """``MixtureSameFamily`` of K diagonal Gaussians (batch shape (), event (D,)) whose ``log_prob``
    is two matrix products per chunk of points instead of a (points, K, D) broadcast.

    log N(z; mu_k, diag s_k^2) = -1/2 z^2 . (1/s_k^2) + z . (mu_k/s_k^2) + c_k, so all K component
    log-densities of N points are one (N, 2D) x (2D, K) product plus a constant per component: 2 N K D
    multiply-adds instead of the broadcast's ~6 N K D memory-bound operations (a 500-component
    VampPrior at K = 5,000 importance samples spent most of the evaluation there). The expanded
    square cancels large terms when components are narrow (scales ~0.02 lost up to 0.008 nats in
    float32), so the product runs in float64 (its cost is a fraction of decoding the draws) on z and
    the means centred on the means' average; the value comes back in z's dtype.
    """

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """z (*, D) -> (*,) nats, computed MIXTURE_BUDGET elements of (points, K) at a time."""
        normal = self.component_distribution.base_dist  # loc, scale (K, D)
        loc, scale = normal.loc.double(), normal.scale.double()  # (K, D)
        centre = loc.mean(0).detach()  # (D,): any vector gives the same value; this one keeps terms small
        loc, precision = loc - centre, scale.reciprocal().square()  # (K, D)
        weights = torch.cat([-0.5 * precision, loc * precision], -1).T  # (2D, K)
        constant = (self.mixture_distribution.logits.log_softmax(-1) - 0.5 * (loc.square() * precision).sum(-1)
                    - scale.log().sum(-1) - 0.5 * z.shape[-1] * math.log(2 * math.pi))  # (K,)
        flat = (z.double() - centre).reshape(-1, z.shape[-1])  # (N, D)
        rows = max(1, MIXTURE_BUDGET // len(constant))
        parts = [torch.addmm(constant, torch.cat([part.square(), part], -1), weights).logsumexp(-1)
                 for part in flat.split(rows)]
        return torch.cat(parts).view(z.shape[:-1]).to(z.dtype)


def gaussian_mixture(logits: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> MixtureSameFamily:
    """Mixture of K diagonal Gaussians: logits (K,), loc and scale (K, D); event shape (D,)."""
    component = Independent(Normal(loc, scale, validate_args=False), 1, validate_args=False)
    return ChunkedMixture(Categorical(logits=logits, validate_args=False), component, validate_args=False)


@torch.no_grad()
def sample_mixture(
    mixture: MixtureSameFamily, n: int, temperature: float, generator: torch.Generator | None
) -> torch.Tensor:
    """(n, D) draws from a mixture of ``Independent(Normal)`` with every component's scale times temperature."""
    normal = mixture.component_distribution.base_dist  # loc, scale (K, D)
    index = torch.multinomial(mixture.mixture_distribution.probs, n, replacement=True, generator=generator)  # (n,)
    loc, scale = normal.loc[index], normal.scale[index]  # (n, D)
    noise = torch.randn(loc.shape, generator=generator, device=loc.device, dtype=loc.dtype)
    return loc + temperature * scale * noise


def build_prior(prior: Section, latent_dim: int, classes: int = 0) -> nn.Module:
    """The registered prior ``prior.name`` over z (latent_dim,) with ``prior``'s options; ``classes``
    of a conditional model (0 otherwise)."""
    return PRIORS.get(prior.name)(latent_dim, classes, **prior.options)

