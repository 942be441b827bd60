"""A latent-variable model as a composition: encoder trunk -> posterior head -> q(z|x);
prior p(z); decoder trunk -> likelihood -> p(x|z).

Variants are new parts registered by name (``MODELS``), not new model classes.
"""

from __future__ import annotations

from typing import Mapping

import torch
from torch import nn
from torch.distributions import Distribution

from ..config.options import resolve_part
from ..config.ranges import LATENT_DIM
from ..config.section import Section, part
from ..errors import UserError
from ..nn.precision import at_least_float32, full_precision
from ..nn.registry import TRUNKS, Trunk
from .conditional import check_labels, labelled_trunks, one_hot
from .heads import GaussianHead, PointHead
from .likelihoods import build_likelihood
from .priors import Prior, build_prior
from .protocols import BindsEncoder, prior_needs_labels
from .registry import MODELS, LikelihoodPart, PriorPart


class LatentVariableModel(nn.Module):
    """x (B, *data_shape) <-> z (B, latent_dim).

    ``default_objective`` names the objective this model trains with when the config says 'auto'.
    ``classes`` > 0 makes it conditional (``vaekit.models.conditional``): encoder, decoder and a prior
    per class also take the label, always as an argument (``labels`` (B,) class indices or (B, L) soft
    labels); the model keeps no per-call state, so concurrent or interleaved calls do not interact.
    """

    def __init__(self, encoder, head, decoder, likelihood, prior, data_shape, default_objective: str, classes: int = 0):
        super().__init__()
        self.classes = classes
        self.encoder, self.head = encoder, head
        self.decoder, self.likelihood = decoder, likelihood
        self.prior = prior  # None for a plain autoencoder: nothing to sample from
        self.data_shape = tuple(data_shape)
        self.default_objective = default_objective
        if isinstance(prior, BindsEncoder):  # priors built on the model's encoder (VampPrior) get it here
            prior.bind(self.encode, self.data_shape)

    def encode(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> Distribution:
        """q(z|x) (q(z|x, y) when conditional): batch shape (B,), event shape (latent_dim,). Its ``mean`` is the embedding."""
        if self.classes:
            h = self.encoder(x, self.label_input(labels, x.shape[:1], x.dtype))  # (B, F); bfloat16 under autocast
        else:
            h = self.encoder(x)
        with full_precision(h):  # the posterior's parameters and all that follows from them: float32
            return self.head(at_least_float32(h))

    def decode(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> Distribution:
        """p(x|z) (p(x|z, y) when conditional): z (*lead, latent_dim) -> batch shape lead, event shape
        data_shape; lead may be (k, B). Labels (B,) broadcast over the leading draws."""
        decoded = self.decoder_output(z, labels)  # (*lead, params, *data_shape)
        with full_precision(decoded):  # float32 log-probabilities
            return self.likelihood(decoded)

    def decoder_output(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The likelihood's parameters (*lead, params, *data_shape), at least float32, for z (*lead, latent_dim):
        what ``decode`` turns into p(x|z) (and an exported decoder gives by name)."""
        lead = z.shape[:-1]
        flat = z.reshape(-1, z.shape[-1])
        if self.classes:
            decoded = self.decoder(flat, self.label_input(labels, lead, z.dtype).reshape(-1, self.classes))
        else:
            decoded = self.decoder(flat)  # (N, params, *data_shape)
        decoded = at_least_float32(decoded)
        return decoded.view(*lead, *decoded.shape[1:])

    def label_input(self, labels: torch.Tensor | None, lead: torch.Size, dtype: torch.dtype) -> torch.Tensor:
        """The one-hot labels (*lead, L) the trunks of a conditional model take."""
        if labels is None:
            raise UserError("this model is conditional: it needs the class label of every example "
                            "(pass labels=..., also to sample)")
        return one_hot(torch.as_tensor(labels, device=next(self.parameters()).device), self.classes, dtype).expand(
            *lead, self.classes)

    def training_stages(self, data, seed: int) -> list:
        """Stages to run after training on the best weights (see ``vaekit.training.stages``), e.g. a
        VQ-VAE's code prior; ``data.train`` and ``data.val`` are the splits (prepared when first read).
        None here."""
        return []

    def prior_distribution(self, labels: torch.Tensor | None = None) -> Distribution:
        """p(z), or p(z|y) for a prior per class (``labels`` (B,): batch shape (B,))."""
        if self.prior is None:
            raise UserError("this model is a plain autoencoder and has no prior; train model 'vae' to sample")
        if prior_needs_labels(self.prior):
            return self.prior(labels)
        return self.prior()

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """(B, *data_shape): the mean of p(x | z = mean of q(z|x)); ``labels`` (B,) for a conditional model."""
        return self.decode(self.encode(x, labels).mean, labels).mean

    @torch.no_grad()
    def sample(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None,
               labels=None, *, label=None) -> torch.Tensor:
        """(n, *data_shape): means of p(x|z) at n draws z ~ p(z) with its scale times ``temperature``.

        A conditional model draws for ``labels``: a class index for all n, or labels (n,); None: the
        classes in turn. ``label`` is the earlier name of ``labels``, still accepted."""
        z, labels = self.draw_latents(n, temperature, generator, label if labels is None else labels)
        return self.decode(z, labels).mean

    def draw_latents(self, n: int, temperature: float = 1.0, generator: torch.Generator | None = None,
                     labels=None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """(z (n, latent_dim), labels (n,) or None): n draws of the prior, for ``labels`` (as in ``sample``)
        when conditional."""
        if self.prior is None:
            self.prior_distribution()  # raises the error that explains why
        labels = self.sample_labels(n, labels)
        if prior_needs_labels(self.prior):
            return self.prior.sample(n, temperature, generator, labels=labels), labels
        return self.prior.sample(n, temperature, generator), labels

    def sample_labels(self, n: int, label) -> torch.Tensor | None:
        """(n,) int64 labels to sample a conditional model with: ``label`` repeated, the given (n,) labels,
        or (None) the classes in turn; None for an unconditional model, which takes no label."""
        if not self.classes:
            if label is not None:
                raise UserError("this model is not conditional: it takes no label (train with --conditional)")
            return None
        device = next(self.parameters()).device
        labels = torch.arange(n, device=device) % self.classes if label is None else torch.as_tensor(label, device=device)
        labels = labels.long().expand(n) if labels.ndim == 0 else labels.long()
        check_labels(labels, self.classes, "label")
        return labels


def _compose(data_shape, latent_dim: int, trunk: Section, likelihood: Section, conditional: bool, classes: int,
             head_class, prior, default_objective: str) -> LatentVariableModel:
    likelihood = build_likelihood(likelihood, data_shape)
    if conditional:
        encoder, decoder = labelled_trunks(trunk, classes, tuple(data_shape), latent_dim, likelihood.params)
    else:
        encoder, decoder = TRUNKS.get(trunk.name)(tuple(data_shape), latent_dim, likelihood.params, **trunk.options)
    head = head_class(encoder.out_features, latent_dim)
    classes = classes if conditional else 0
    return LatentVariableModel(encoder, head, decoder, likelihood, prior, data_shape, default_objective, classes)


def check_model_options(latent_dim: int, conditional: bool = False, classes: int = 0) -> None:
    """The range checks every model builder shares: model.latent_dim, and model.classes when conditional."""
    LATENT_DIM.check("model.latent_dim", latent_dim)
    if conditional and classes < 2:
        raise UserError(f"model.classes must be at least 2 for a conditional model, got {classes} "
                        "(vaekit train sets it from the labels of the data)")


@MODELS.register("vae", objective="elbo")
def build_vae(data_shape: tuple[int, ...], *, latent_dim: int = 16, trunk: Trunk = part("mlp"),
              prior: PriorPart = part("normal"), likelihood: LikelihoodPart = part("auto"), conditional: bool = False,
              classes: int = 0) -> LatentVariableModel:
    """Gaussian posterior, registered prior (standard normal by default), ELBO objective. ``conditional``:
    encoder q(z|x, y) and decoder p(x|z, y) see the one-hot class label y of ``classes`` classes (0: set
    from the training labels by vaekit.train)."""
    check_model_options(latent_dim, conditional, classes)
    built_prior = build_prior(prior, latent_dim, classes if conditional else 0)
    if conditional and type(built_prior).bind is not Prior.bind:
        raise UserError(f"model.prior.name={prior.name} encodes inputs with the model's encoder, which a conditional "
                        "model cannot do without their labels; use prior normal, mog or conditional")
    return _compose(data_shape, latent_dim, trunk, likelihood, conditional, classes, GaussianHead, built_prior, "elbo")


@MODELS.register("ae", objective="reconstruction")
def build_ae(data_shape: tuple[int, ...], *, latent_dim: int = 16, trunk: Trunk = part("mlp"),
             likelihood: LikelihoodPart = part("auto"), conditional: bool = False,
             classes: int = 0) -> LatentVariableModel:
    """Deterministic autoencoder: point-mass 'posterior', no prior, reconstruction objective."""
    check_model_options(latent_dim, conditional, classes)
    return _compose(data_shape, latent_dim, trunk, likelihood, conditional, classes, PointHead, None, "reconstruction")


def build_model(model: Mapping, data_shape) -> LatentVariableModel:
    """Build the registered model ``model.name`` for data of shape ``data_shape`` (no batch dim) with
    the options of the section ``model`` (validated here: a UserError names a bad one); without a name,
    the config's default model ('vae')."""
    model = resolve_part(MODELS, model, "model", default=part("vae"))
    return MODELS.get(model.name)(tuple(data_shape), **model.options)
