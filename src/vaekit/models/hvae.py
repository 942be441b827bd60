"""The two-level hierarchical VAE of the VampPrior paper (Tomczak and Welling, 2018):

    generative   p(z2) p(z1|z2) p(x|z1, z2)        inference   q(z2|x) q(z1|x, z2)

with z1 and z2 both of size latent_dim. The model is a plain ``LatentVariableModel`` over the pair
z = (z1, z2), concatenated to (B, 2 * latent_dim): its posterior head gives q(z1, z2|x) and its
prior gives p(z1, z2), both as ``TwoLevel`` distributions, and its decoder reads the pair. So the
ELBO, IWAE and the importance-sampled log p(x) work unchanged, because

    log q(z|x) = log q(z2|x) + log q(z1|x, z2)      log p(z) = log p(z2) + log p(z1|z2).

p(z2) is the registered prior ``model.prior`` (a VampPrior encodes its pseudo-inputs with q(z2|x), the
exemplar prior its exemplars).
The dense layers of the hierarchy (q(z1|x, z2), p(z1|z2)) have ``model.width`` units (0: the trunk's
last hidden width, or 256), gated when ``model.trunk.gated``. ``encode(x).mean`` (the embedding) is the concatenation of the mean of
q(z1|x, z2 = mean of q(z2|x)) and the mean of q(z2|x).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn
from torch.distributions import Distribution

from ..config.section import Section, part
from ..errors import UserError
from ..nn.mlp import dense_stack
from ..nn.registry import TRUNKS, Trunk
from .heads import GaussianHead
from .likelihoods import build_likelihood
from .model import LatentVariableModel, check_model_options
from .priors import Prior, build_prior
from .registry import MODELS, LikelihoodPart, PriorPart


class TwoLevel(Distribution):
    """top(z2) * conditional(z2)(z1) over z = (z1, z2), event shape (2 D,): q(z1, z2|x) or p(z1, z2).

    top: a distribution over z2, event (D,); conditional: z2 (*, D) -> a distribution over z1 with
    batch shape *. Log-densities are exact; the KL to another TwoLevel has no closed form, so the
    ELBO takes the one-sample estimate, and ``log_prob_levels`` gives its split over the levels.
    """

    arg_constraints: dict = {}

    def __init__(self, top: Distribution, conditional: Callable[[torch.Tensor], Distribution]):
        self.top, self.conditional = top, conditional
        super().__init__(top.batch_shape, torch.Size([2 * top.event_shape[0]]), validate_args=False)

    @property
    def has_rsample(self) -> bool:
        return self.top.has_rsample

    def rsample(self, sample_shape=torch.Size()) -> torch.Tensor:
        """(*sample_shape, *batch, 2 D): z2 ~ top, then z1 ~ conditional(z2), both reparameterised."""
        z2 = self.top.rsample(sample_shape)
        return torch.cat([self.conditional(z2).rsample(), z2], -1)

    def sample(self, sample_shape=torch.Size()) -> torch.Tensor:
        with torch.no_grad():
            z2 = self.top.sample(sample_shape)
            return torch.cat([self.conditional(z2).sample(), z2], -1)

    def log_prob_levels(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """{'z1': log q(z1|z2) (*), 'z2': log q(z2) (*)} in nats, for z (*, 2 D)."""
        z1, z2 = z.chunk(2, dim=-1)
        return {"z1": self.conditional(z2).log_prob(z1), "z2": self.top.log_prob(z2)}

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        levels = self.log_prob_levels(z)
        return levels["z1"] + levels["z2"]

    @property
    def mean(self) -> torch.Tensor:
        """(*batch, 2 D): (mean of z1 given z2 at its mean, mean of z2), the plug-in, not E[z1]."""
        z2 = self.top.mean
        return torch.cat([self.conditional(z2).mean, z2], -1)

    @property
    def variance(self) -> torch.Tensor:
        """(*batch, 2 D): (variance of z1 given z2 at its mean, variance of z2)."""
        return torch.cat([self.conditional(self.top.mean).variance, self.top.variance], -1)


class HierarchicalHead(nn.Module):
    """Encoder features h (B, F) -> q(z1, z2|x) = q(z2|h) q(z1|h, z2), each a diagonal Gaussian."""

    def __init__(self, features: int, latent_dim: int, width: int, gated: bool = False):
        super().__init__()
        self.top = GaussianHead(features, latent_dim)  # q(z2|x)
        self.z1 = nn.Sequential(dense_stack([features + latent_dim, width], gated), GaussianHead(width, latent_dim))

    def forward(self, h: torch.Tensor) -> TwoLevel:
        def conditional(z2: torch.Tensor) -> Distribution:  # q(z1|x, z2) for z2 (*, B, D)
            return self.z1(torch.cat([h.expand(*z2.shape[:-1], h.shape[-1]), z2], -1))

        return TwoLevel(self.top(h), conditional)


class HierarchicalPrior(Prior):
    """p(z1, z2) = p(z2) p(z1|z2): ``top`` a registered prior over z2, p(z1|z2) a learned diagonal Gaussian."""

    def __init__(self, top: nn.Module, latent_dim: int, width: int, gated: bool = False):
        super().__init__()
        self.top = top
        self.z1 = nn.Sequential(dense_stack([latent_dim, width, width], gated), GaussianHead(width, latent_dim))
        self.encode = None  # the model's q(z1, z2|x), set by bind; a plain attribute, not a submodule

    def bind(self, encode, data_shape) -> None:
        self.encode = encode
        self.top.bind(self.encode_top, data_shape)  # a registered Prior: a no-op unless it encodes

    def take_exemplars(self, train_inputs, generator) -> None:
        """Forwarded to ``top``: a prior over z2 built on training examples (the exemplar prior) takes them."""
        self.top.take_exemplars(train_inputs, generator)

    def encode_top(self, x: torch.Tensor) -> Distribution:
        """q(z2|x): what a prior over z2 built on the encoder (VampPrior, exemplar) encodes with."""
        return self.encode(x).top

    def forward(self) -> TwoLevel:
        return TwoLevel(self.top(), self.z1)

    @torch.no_grad()
    def sample(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, 2 D) ancestral draws; temperature scales the standard deviations of both levels."""
        z2 = self.top.sample(n, temperature, generator)  # (n, D)
        p_z1 = self.z1(z2)
        noise = torch.randn(p_z1.mean.shape, generator=generator, device=z2.device, dtype=z2.dtype)
        return torch.cat([p_z1.mean + temperature * p_z1.stddev * noise, z2], -1)


def build_hierarchy(data_shape: tuple[int, ...], latent_dim: int, trunk: Section, prior: Section,
                    likelihood: Section, width: int) -> LatentVariableModel:
    """The two-level model on the registered trunk ``trunk``; its decoder reads z = (z1, z2)."""
    check_model_options(latent_dim)
    if width < 0:
        raise UserError(f"model.width must be >= 0 (0: the trunk's last hidden width, or 256), got {width}")
    likelihood = build_likelihood(likelihood, data_shape)
    encoder, decoder = TRUNKS.get(trunk.name)(data_shape, 2 * latent_dim, likelihood.params, **trunk.options)
    width = width or trunk.get("hidden", (DEFAULT_WIDTH,))[-1]
    gated = trunk.get("gated", False)
    head = HierarchicalHead(encoder.out_features, latent_dim, width, gated)
    prior = HierarchicalPrior(build_prior(prior, latent_dim), latent_dim, width, gated)
    return LatentVariableModel(encoder, head, decoder, likelihood, prior, data_shape, "elbo")


DEFAULT_WIDTH = 256  # of the head's and the prior's layers for a trunk without hidden widths (0.1's hidden[-1])


@MODELS.register("hvae", objective="elbo")
def build_hvae(data_shape: tuple[int, ...], *, latent_dim: int = 16, trunk: Trunk = part("mlp"),
               prior: PriorPart = part("normal"), likelihood: LikelihoodPart = part("auto"),
               width: int = 0) -> LatentVariableModel:
    """Two-level hierarchical VAE on the trunk ``model.trunk`` (mlp by default), trained with the ELBO.
    ``width``: of the layers of q(z1|x, z2) and p(z1|z2); 0: the trunk's last hidden width (256 for conv)."""
    return build_hierarchy(tuple(data_shape), latent_dim, trunk, prior, likelihood, width)


@MODELS.register("conv_hvae", objective="elbo")
def build_conv_hvae(data_shape: tuple[int, ...], *, latent_dim: int = 16, trunk: Trunk = part("conv"),
                    prior: PriorPart = part("normal"), likelihood: LikelihoodPart = part("auto"),
                    width: int = 0) -> LatentVariableModel:
    """The convolutional two-level VAE: images C x H x W and the conv trunk (the same as hvae with trunk conv)."""
    if len(data_shape) != 3:
        shape = "x".join(map(str, data_shape))
        raise UserError(f"model 'conv_hvae' needs images of shape C x H x W, got {shape}; "
                        "use model 'hvae' for other data")
    if trunk.name != "conv":
        raise UserError(f"model 'conv_hvae' is convolutional; set model.trunk.name=conv (got {trunk.name!r}), "
                        "or use model 'hvae' with the trunk you want")
    return build_hierarchy(tuple(data_shape), latent_dim, trunk, prior, likelihood, width)
