"""Importance log-weights, shared by the IWAE objective and the importance-sampled log-likelihood:

    log w = log p(x|z) + log p(z) - log q(z|x),   z ~ q(z|x)

so training and evaluation compute the same numbers.
"""

from __future__ import annotations

import torch
from torch.distributions import Distribution


def log_weights(model, x: torch.Tensor, k: int, labels: torch.Tensor | None = None) -> torch.Tensor:
    """Importance log-weights (k, B), nats: log p(x|z) + log p(z) - log q(z|x) at k draws z ~ q(z|x).

    x: (B, *data_shape); labels (B,) for a conditional model. The draws are reparameterised where q allows it and nothing here stops
    gradients, so a training objective (IWAE) can use this directly.
    """
    q = model.encode(x, labels)  # batch (B,), event (D,)
    z = q.rsample((k,)) if q.has_rsample else q.sample((k,))  # (k, B, D)
    return log_weights_at(model, x, q, z, labels)


def log_weights_at(model, x: torch.Tensor, q: Distribution, z: torch.Tensor,
                   labels: torch.Tensor | None = None) -> torch.Tensor:
    """Log-weights (k, B) at given latents z (k, B, D) for the posterior q = model.encode(x, labels)."""
    prior = model.prior_distribution(labels)  # first: a plain autoencoder fails here with its explanation
    log_px_z = model.decode(z, labels).log_prob(x)  # (k, B): x (B, *data_shape) broadcasts over the k draws
    return log_px_z + prior.log_prob(z) - q.log_prob(z)  # (k, B)
