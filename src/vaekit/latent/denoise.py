"""Denoising: corrupt inputs with noise that suits the likelihood, then reconstruct them.

``denoise`` is seeded through ``vaekit.seeding.seeded``; ``add_noise`` draws from whatever random
state the caller set up, so that it composes inside a caller's seeded section.
"""

from __future__ import annotations

import torch

from ..errors import UserError
from ..models.likelihoods import Bernoulli
from ..seeding import seeded
from .encode import as_batch, decode_mean, posterior_mean


def add_noise(x: torch.Tensor, level: float, binary: bool, clip: tuple[float, float] | None = None) -> torch.Tensor:
    """Corrupted copy of x (B, *shape), drawn from the current random state.

    binary: x in {0, 1}; each element flips with probability ``level``, so the result stays binary.
    Otherwise x + level * N(0, 1) noise (level is the standard deviation, in input units),
    clamped to ``clip`` = (low, high) when given, which keeps it in a bounded support.
    """
    if binary:
        if not 0 <= level <= 1:
            raise UserError(f"the flip probability must be in [0, 1], got {level}")
        flips = torch.rand_like(x) < level
        return torch.where(flips, 1 - x, x)
    if level < 0:
        raise UserError(f"the noise standard deviation must be >= 0, got {level}")
    noisy = x + level * torch.randn_like(x)
    return noisy if clip is None else noisy.clamp(*clip)


def noise_clip(x: torch.Tensor) -> tuple[float, float] | None:
    """(0, 1) when every input lies in [0, 1] (images, grey levels, continuous Bernoulli data), else
    None: real-valued inputs (standardised tables) are left unclipped, their support being all reals."""
    return (0.0, 1.0) if bool(((x >= 0) & (x <= 1)).all()) else None


def denoise(model, x: torch.Tensor, level: float, seed: int = 0,
            labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """Reconstruct corrupted inputs: clean, noisy and reconstruction, each (B, *data_shape), CPU.

    The noise suits the likelihood, so that noisy inputs stay in its support: a Bernoulli model
    (binary data) gets each element flipped with probability ``level``; other models get
    Gaussian noise of standard deviation ``level``, clipped to [0, 1] for inputs in [0, 1]
    (see ``noise_clip``). The reconstruction is the mean of p(x | z = mean of q(z|noisy)).
    Seeded: the same seed gives the same noise; the global random state is untouched. ``labels``
    (B,): the inputs' labels, for a conditional model.
    """
    x = as_batch(model, x)
    if len(x) == 0:
        raise UserError("no inputs to denoise")
    binary = isinstance(model.likelihood, Bernoulli)
    if binary:
        model.likelihood.check_support(x, "bernoulli", "denoise inputs")
    with seeded(seed, x.device):
        noisy = add_noise(x, level, binary, noise_clip(x))
    reconstruction = decode_mean(model, posterior_mean(model, noisy, labels), labels)
    return {"clean": x.cpu(), "noisy": noisy.cpu(), "reconstruction": reconstruction.cpu()}
