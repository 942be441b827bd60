"""The parts every objective reports with: per-example terms, the KL in its forms, and the KL warm-up.

Every term is per example (B,), in nats, summed over the event dimensions; the objective reduces
it to a scalar exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.distributions import Distribution, kl_divergence

from ..data.batch import Batch
from ..errors import UserError
from ..models.protocols import Levelled


@dataclass
class Output:
    """``loss``: the scalar to minimise. ``terms``: name -> (B,) tensor in nats per example."""

    loss: torch.Tensor
    terms: dict[str, torch.Tensor]


def kl_per_example(q: Distribution, p: Distribution, z: torch.Tensor) -> torch.Tensor:
    """KL(q || p) per example (B,): closed form where torch.distributions has one,
    else the one-sample Monte Carlo estimate log q(z) - log p(z) at the given z ~ q."""
    try:
        return kl_divergence(q, p)
    except NotImplementedError:
        return q.log_prob(z) - p.log_prob(z)


def reconstruction_and_kl(model, batch: Batch) -> tuple[Distribution, Distribution, torch.Tensor, torch.Tensor,
                                                         torch.Tensor]:
    """(q(z|x), p(z), z (B, D), log p(x|z) (B,), KL per example (B,)) at one reparameterised
    z ~ q(z|x): the ELBO's parts, to which the disentangling objectives add their terms. A
    conditional model gets the batch's labels: q(z|x, y), p(z|y) and p(x|z, y)."""
    x, labels = batch.x, batch.labels
    q = model.encode(x, labels)
    z = q.rsample()  # (B, D)
    log_px_z = model.decode(z, labels).log_prob(x)  # (B,)
    p = model.prior_distribution(labels)
    return q, p, z, log_px_z, kl_per_example(q, p, z)


def kl_levels(q: Distribution, p: Distribution, z: torch.Tensor) -> dict[str, torch.Tensor]:
    """'kl_LEVEL' -> (B,) one-sample KL of each level of a hierarchical q and p (both giving
    ``log_prob_levels(z)``, name -> (B,) nats, e.g. z1 and z2); they sum to the total KL at z. {} otherwise."""
    if not (isinstance(q, Levelled) and isinstance(p, Levelled)):
        return {}
    q_levels, p_levels = q.log_prob_levels(z), p.log_prob_levels(z)
    return {f"kl_{name}": q_levels[name] - p_levels[name] for name in q_levels}


def kl_per_dimension(q: Distribution, p: Distribution) -> torch.Tensor:
    """KL per latent dimension (B, D) for factorised q and p (``Independent`` over one dim)."""
    try:
        return kl_divergence(q.base_dist, p.base_dist).expand(q.batch_shape + q.event_shape)
    except (AttributeError, NotImplementedError):
        raise UserError("free bits (objective.free_bits) need a factorised posterior and prior with a closed-form KL "
                        "per dimension, as a 'vae' with the 'normal' prior has; set objective.free_bits=0 for this "
                        "model") from None


def linear_warmup(target: float, warmup_epochs: int, epoch: int) -> float:
    """target * min(1, epoch / warmup_epochs) for a 0-based epoch: 0 at the start, target from epoch N on."""
    if warmup_epochs <= 0:
        return target
    return target * min(1.0, epoch / warmup_epochs)
