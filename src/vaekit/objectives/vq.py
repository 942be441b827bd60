"""The VQ-VAE loss (van den Oord et al., 2017); the model and its quantizer are in ``models/vq.py``."""

from __future__ import annotations

import torch

from ..errors import UserError
from ..models.vq import VQVAE
from ..data.batch import Batch
from .registry import OBJECTIVES
from .terms import Output


def squared_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(B,): ||a - b||^2 summed over the grid and the stages, for a, b (B, P, S, d)."""
    return (a - b).pow(2).flatten(1).sum(1)


@OBJECTIVES.register("vq")
class VQLoss:
    """The VQ-VAE loss (see the module docstring): mean over the batch of
    -log p(x|z_q) + vq_codebook + vq_commitment.

    Terms, (B,) each: log_px_z (nats); for a quantizer with codebooks vq_codebook = ||sg[z_e] - e||^2
    (left out with an EMA codebook) and vq_commitment = commitment * ||z_e - sg[e]||^2 (both in squared
    units of the codebook's space, summed over the stages of a residual quantizer, as they enter the
    loss); FSQ has neither. With a fitted code prior also kl = -log p(codes) and elbo = log_px_z - kl.
    No options: there is no KL weight (objective.beta and the like are unknown keys here); the
    commitment weight is the quantizer's (model.quantizer.commitment).
    """

    compilable = False  # not known to trace cleanly (the quantizer's codebook updates): runs eagerly

    @staticmethod
    def check_model(model) -> None:
        if not isinstance(model, VQVAE):
            raise UserError("objective 'vq' trains a VQ-VAE (model 'vqvae'), whose posterior is a codebook entry")

    def beta_at(self, epoch: int) -> float:
        return 0.0

    def __call__(self, model, batch: Batch, beta: float | None = None) -> Output:
        x = batch.x  # a VQ-VAE is never conditional: it takes no labels
        q = model.encode(x)  # z_e, z_q (B, P, S, d) or None, codes (B, P * S)
        log_px_z = model.decode(q.rsample()).log_prob(x)  # (B,); the quantizer's estimator carries it to the encoder
        terms = {"log_px_z": log_px_z}
        if q.z_e is not None:
            terms["vq_commitment"] = model.commitment * squared_distance(q.z_e, q.z_q.detach())
            if not model.quantizer.ema:
                terms["vq_codebook"] = squared_distance(q.z_e.detach(), q.z_q)
        loss = -log_px_z.mean() + sum(terms[name].mean() for name in terms if name != "log_px_z")
        if model.prior is not None:  # the bound on log p(x) (module docstring); not part of the loss
            kl = -model.prior.log_prob_codes(q.codes)
            terms.update(kl=kl, elbo=log_px_z - kl)
        return Output(loss, terms)
