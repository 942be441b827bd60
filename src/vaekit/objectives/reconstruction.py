"""Reconstruction only: the autoencoder's objective."""

from __future__ import annotations

import torch

from ..errors import UserError
from ..data.batch import Batch
from .registry import OBJECTIVES
from .terms import Output


@OBJECTIVES.register("reconstruction")
class Reconstruction:
    """Reconstruction only: loss = mean_B[-log p(x | z = encoder point)] (the autoencoder's loss).
    No options: there is no KL term, so objective.beta and the like are unknown keys here."""

    compilable = False  # not known to trace cleanly: runs eagerly

    @staticmethod
    def check_model(model) -> None:
        """Any model without a learned prior: this loss would leave a prior's parameters untrained."""
        if model.prior is not None and any(True for _ in model.prior.parameters()):
            raise UserError("objective 'reconstruction' would leave this model's learned prior untrained; "
                            "train it with objective 'elbo' or 'iwae'")

    def beta_at(self, epoch: int) -> float:
        return 0.0

    def __call__(self, model, batch: Batch, beta: float | None = None) -> Output:
        z = model.encode(batch.x, batch.labels).rsample()
        log_px_z = model.decode(z, batch.labels).log_prob(batch.x)
        return Output(-log_px_z.mean(), {"log_px_z": log_px_z})
