"""A latent-variable model as a composition: encoder trunk -> posterior head -> q(z|x);
prior p(z); decoder trunk -> likelihood -> p(x|z).

Variants are new parts registered by name (``MODELS``), not new model classes.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Distribution

from ..errors import UserError
from ..nn.precision import at_least_float32, full_precision
from ..nn.registry import TRUNKS
from .heads import GaussianHead, PointHead
from .likelihoods import build_likelihood
from .priors import build_prior
from .registry import MODELS


class LatentVariableModel(nn.Module):
    """x (B, *data_shape) <-> z (B, latent_dim).

    ``default_objective`` names the objective this model trains with when the config says 'auto'.
    """

    def __init__(self, encoder, head, decoder, likelihood, prior, data_shape, default_objective: str):
        super().__init__()
        self.encoder, self.head = encoder, head
        self.decoder, self.likelihood = decoder, likelihood
        self.prior = prior  # None for a plain autoencoder: nothing to sample from
        self.data_shape = tuple(data_shape)
        self.default_objective = default_objective
        if hasattr(prior, "bind"):  # priors built on the model's encoder (VampPrior) get it here
            prior.bind(self.encode, self.data_shape)

    def encode(self, x: torch.Tensor) -> Distribution:
        """q(z|x): batch shape (B,), event shape (latent_dim,). Its ``mean`` is the embedding."""
        h = self.encoder(x)  # (B, F); bfloat16 under autocast
        with full_precision(h):  # the posterior's parameters and all that follows from them: float32
            return self.head(at_least_float32(h))

    def decode(self, z: torch.Tensor) -> Distribution:
        """p(x|z): z (*lead, latent_dim) -> batch shape lead, event shape data_shape; lead may be (k, B)."""
        lead = z.shape[:-1]
        decoded = at_least_float32(self.decoder(z.reshape(-1, z.shape[-1])))  # (N, params, *data_shape)
        with full_precision(decoded):  # float32 log-probabilities
            return self.likelihood(decoded.view(*lead, *decoded.shape[1:]))  # (*lead, params, *data_shape)

    def epoch_statistics(self, data) -> dict[str, float]:
        """Model-specific numbers logged with each epoch's validation metrics (e.g. codebook usage);
        ``data`` is the validation split. None here; variants override it."""
        return {}

    def prior_distribution(self) -> Distribution:
        if self.prior is None:
            raise UserError("this model is a plain autoencoder and has no prior; train model 'vae' to sample")
        return self.prior()

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """(B, *data_shape): the mean of p(x | z = mean of q(z|x))."""
        return self.decode(self.encode(x).mean).mean

    @torch.no_grad()
    def sample(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None) -> torch.Tensor:
        """(n, *data_shape): means of p(x|z) at n draws z ~ p(z) with its scale times ``temperature``."""
        if self.prior is None:
            self.prior_distribution()  # raises the error that explains why
        z = self.prior.sample(n, temperature, generator)
        return self.decode(z).mean


def _compose(config, data_shape, head_class, prior, default_objective) -> LatentVariableModel:
    likelihood = build_likelihood(config, data_shape)
    encoder, decoder = TRUNKS.get(config.trunk)(tuple(data_shape), config, likelihood.params)
    head = head_class(encoder.out_features, config.latent_dim)
    return LatentVariableModel(encoder, head, decoder, likelihood, prior, data_shape, default_objective)


@MODELS.register("vae")
def build_vae(config, data_shape) -> LatentVariableModel:
    """Gaussian posterior, registered prior (standard normal by default), ELBO objective."""
    return _compose(config, data_shape, GaussianHead, build_prior(config), "elbo")


@MODELS.register("ae")
def build_ae(config, data_shape) -> LatentVariableModel:
    """Deterministic autoencoder: point-mass 'posterior', no prior, reconstruction objective."""
    return _compose(config, data_shape, PointHead, None, "reconstruction")


def build_model(config, data_shape) -> LatentVariableModel:
    """Build the registered model ``config.name`` for data of shape ``data_shape`` (no batch dim)."""
    if config.latent_dim < 1:
        raise UserError(f"model.latent_dim must be at least 1, got {config.latent_dim}")
    return MODELS.get(config.name)(config, tuple(data_shape))

