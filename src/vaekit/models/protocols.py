"""The optional hooks of models and priors, as typed protocols.

Every model is a ``LatentVariableModel``, whose base class gives the shared defaults (no epoch
statistics, no training stages); the protocols here are the hooks that only some models or priors
have, which their callers check with ``isinstance`` instead of probing attribute names.
"""

from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

import torch
from torch import nn
from torch.distributions import Distribution


@runtime_checkable
class ChecksObjective(Protocol):
    """A model that trains with particular objectives only (a VQ-VAE): a UserError for any other ``name``."""

    def check_objective(self, name: str) -> None: ...


@runtime_checkable
class HasTrainingStages(Protocol):
    """Numbers logged with each epoch's validation metrics and reported by evaluation, and stages run
    after training on the best weights. ``LatentVariableModel`` gives defaults (none); a VQ-VAE has its own."""

    def epoch_statistics(self, data) -> dict[str, float]: ...

    def evaluation_statistics(self, data) -> dict: ...

    def training_stages(self, data, seed: int) -> list: ...


@runtime_checkable
class FitsCodePrior(Protocol):
    """A model whose prior is fitted after training to its discrete codes (a VQ-VAE): ``new_prior()``
    gives a fresh, untrained code prior."""

    def new_prior(self) -> nn.Module: ...


@runtime_checkable
class BindsEncoder(Protocol):
    """A prior built on the model's own encoder (VampPrior, exemplar): ``bind`` gives it ``encode(x)`` =
    q(z|x) for x (N, *data_shape), once the model is composed. ``vaekit.models.priors.Prior`` has a no-op."""

    def bind(self, encode: Callable[[torch.Tensor], Distribution], data_shape: tuple[int, ...]) -> None: ...


@runtime_checkable
class TakesExemplars(Protocol):
    """A prior that takes examples of the training split before the first step of a fresh run (the
    exemplar prior): ``train_inputs()`` gives them (N, *data_shape), ``generator`` a seeded CPU generator."""

    def take_exemplars(self, train_inputs: Callable[[], torch.Tensor], generator: torch.Generator) -> None: ...


@runtime_checkable
class LabelledPrior(Protocol):
    """A prior that may depend on the class label: ``needs_labels`` True means p(z|y), called with labels (B,)."""

    needs_labels: bool


@runtime_checkable
class WideOutput(Protocol):
    """A likelihood that decodes several values per input element (256 logits for an 8-bit one):
    evaluation shrinks its batches by ``memory_factor``, the number of values per element."""

    memory_factor: int


@runtime_checkable
class Levelled(Protocol):
    """A distribution over the latents of a hierarchy (q or p of a two-level VAE) that splits its
    log-density by level: name -> (B,) nats (e.g. z1 and z2), summing to ``log_prob(z)``."""

    def log_prob_levels(self, z: torch.Tensor) -> dict[str, torch.Tensor]: ...


def prior_needs_labels(prior) -> bool:
    """Whether ``prior`` is p(z|y), to be called with each batch's labels (False for None, an autoencoder's)."""
    return isinstance(prior, LabelledPrior) and bool(prior.needs_labels)
