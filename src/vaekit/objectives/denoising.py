"""DARLA's denoising objective (Higgins et al., 2017, after Pathak et al., 2016): the input is occluded
by a rectangle whose corners are drawn uniformly, two column values from U[0, W] and two row values
from U[0, H] per example, every pixel inside set to 0; the model reconstructs the clean input:

    loss = mean_B[-log p(x | z = encoder(occluded x))].

Flat data (D,) get the one-dimensional analogue: an interval between two values drawn from U[0, D].
"""

from __future__ import annotations

import torch

from ..data.batch import Batch
from ..errors import UserError
from .registry import OBJECTIVES
from .terms import Output


def inside_interval(batch: int, size: int, device) -> torch.Tensor:
    """(B, size) bool: the positions whose centres lie between two values drawn from U[0, size]."""
    ends = torch.rand(batch, 2, device=device) * size  # (B, 2), in either order
    centres = torch.arange(size, device=device) + 0.5
    return (centres >= ends.min(1, keepdim=True)[0]) & (centres <= ends.max(1, keepdim=True)[0])


def occlude(x: torch.Tensor) -> torch.Tensor:
    """x (B, C, H, W) with one random axis-aligned rectangle per example set to 0 (DARLA's masking noise),
    or x (B, D) with one random interval set to 0; draws from the global generator (the trainer's
    seeded stream)."""
    if x.ndim == 2:
        return x.masked_fill(inside_interval(len(x), x.shape[1], x.device), 0.0)
    rows = inside_interval(len(x), x.shape[-2], x.device)  # (B, H)
    columns = inside_interval(len(x), x.shape[-1], x.device)  # (B, W)
    return x.masked_fill(rows[:, None, :, None] & columns[:, None, None, :], 0.0)  # mask (B, 1, H, W)


@OBJECTIVES.register("denoising")
class Denoising:
    """See the module docstring. Terms, (B,) nats per example: log_px_z, the clean input's log-likelihood
    given the code of its occluded copy. No options."""

    compilable = False  # not known to trace cleanly: runs eagerly

    @staticmethod
    def check_model(model) -> None:
        if len(model.data_shape) not in (1, 3):
            shape = "x".join(map(str, model.data_shape))
            raise UserError(f"objective 'denoising' occludes images C x H x W or flat rows D, got shape {shape}")
        if model.prior is not None:
            raise UserError("objective 'denoising' trains a plain autoencoder; use --model dae")

    def beta_at(self, epoch: int) -> float:
        return 0.0

    def __call__(self, model, batch: Batch, beta: float | None = None) -> Output:
        z = model.encode(occlude(batch.x), batch.labels).rsample()
        log_px_z = model.decode(z, batch.labels).log_prob(batch.x)  # (B,): the clean input
        return Output(-log_px_z.mean(), {"log_px_z": log_px_z})
