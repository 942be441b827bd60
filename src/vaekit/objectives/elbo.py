"""The ELBO with a KL weight (beta-VAE), KL warm-up and free bits."""

from __future__ import annotations

import torch

from ..errors import UserError
from ..nn.collective import global_batch_mean
from ..data.batch import Batch
from .registry import OBJECTIVES
from .terms import Output, kl_levels, kl_per_dimension, linear_warmup, reconstruction_and_kl


@OBJECTIVES.register("elbo")
class ELBO:
    """Negative ELBO with a KL weight: loss = mean_B[-log p(x|z)] + beta * KL, z ~ q(z|x) reparameterised.

    beta != 1 gives a beta-VAE; ``warmup_epochs`` ramps beta from 0; ``free_bits`` (nats) floors the
    batch-mean KL of each latent dimension inside the loss (Kingma et al., 2016). The reported terms
    are always the true per-example values: log_px_z, kl and elbo = log_px_z - kl; a hierarchical
    model adds its KL per level (kl_z1, kl_z2: one-sample, at the same z, summing to kl).
    """

    compilable = True  # pure tensor code: traces into one graph

    def __init__(self, *, beta: float = 1.0, warmup_epochs: int = 0, free_bits: float = 0.0):
        if beta < 0 or warmup_epochs < 0 or free_bits < 0:
            raise UserError("objective.beta, objective.warmup_epochs and objective.free_bits must be >= 0")
        self.beta, self.warmup_epochs, self.free_bits = beta, warmup_epochs, free_bits

    def beta_at(self, epoch: int) -> float:
        return linear_warmup(self.beta, self.warmup_epochs, epoch)

    def __call__(self, model, batch: Batch, beta: float | None = None) -> Output:
        beta = self.beta if beta is None else beta
        q, p, z, log_px_z, kl = reconstruction_and_kl(model, batch)  # z (B, D); log_px_z, kl (B,)
        if self.free_bits > 0:
            kl_loss = global_batch_mean(kl_per_dimension(q, p)).clamp(min=self.free_bits).sum()  # over the global batch
        else:
            kl_loss = kl.mean()
        loss = -log_px_z.mean() + beta * kl_loss
        return Output(loss, {"log_px_z": log_px_z, "kl": kl, **kl_levels(q, p, z), "elbo": log_px_z - kl})
