"""The importance-weighted bound (IWAE) as a training objective."""

from __future__ import annotations

import math

import torch

from ..errors import UserError
from .importance import log_weights_at
from ..data.batch import Batch
from .registry import OBJECTIVES
from .terms import Output


@OBJECTIVES.register("iwae")
class IWAE:
    """The importance-weighted bound (Burda et al., 2016); loss = mean_B[-IWAE_k] with

        IWAE_k(x) = logsumexp_s [log p(x|z_s) + log p(z_s) - log q(z_s|x)] - log k,   z_s ~ q(z|x), s = 1..k

    reparameterised. The log-weights are ``importance.log_weights_at``, which the importance-sampled
    log p(x) of evaluation uses too, so training and evaluation compute the same numbers. In expectation
    ELBO = IWAE_1 <= IWAE_k <= IWAE_{k+1} <= log p(x).

    Terms, (B,) nats per example: ``iwae``, the bound; ``log_px_z`` and ``kl``, the means over the k
    draws of log p(x|z_s) and of the one-sample KL log q(z_s|x) - log p(z_s); and ``elbo`` =
    log_px_z - kl, the plain ELBO averaged over the same k draws (what validation and early stopping
    read). There is no KL weight: beta, warm-up and free bits are the ELBO's and are refused here.
    """

    compilable = True  # pure tensor code: traces into one graph

    def __init__(self, *, k: int = 5, beta: float = 1.0, warmup_epochs: int = 0, free_bits: float = 0.0):
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise UserError(f"objective.k, the importance samples of objective 'iwae', must be an integer >= 1, "
                            f"got {k!r}")
        if (beta, warmup_epochs, free_bits) != (1.0, 0, 0.0):
            raise UserError(
                "objective 'iwae' has no KL weight, so objective.beta, objective.warmup_epochs and objective.free_bits "
                "do not apply; leave them at their defaults or train with objective 'elbo'"
            )
        self.k = k

    def beta_at(self, epoch: int) -> float:
        return 1.0

    def __call__(self, model, batch: Batch, beta: float | None = None) -> Output:
        x, labels = batch.x, batch.labels
        q = model.encode(x, labels)  # batch (B,), event (D,)
        if not q.has_rsample:
            raise UserError("objective 'iwae' needs a reparameterised posterior (rsample) to train the encoder")
        z = q.rsample((self.k,))  # (k, B, D)
        log_w = log_weights_at(model, x, q, z, labels)  # (k, B)
        kl = q.log_prob(z) - model.prior_distribution(labels).log_prob(z)  # (k, B): one-sample KL per draw
        iwae = log_w.logsumexp(0) - math.log(self.k)  # (B,)
        terms = {"iwae": iwae, "log_px_z": (log_w + kl).mean(0), "kl": kl.mean(0), "elbo": log_w.mean(0)}
        return Output(-iwae.mean(), terms)
