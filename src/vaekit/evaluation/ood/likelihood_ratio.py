"""The likelihood ratio (Ren et al., 2019, "Likelihood ratios for out-of-distribution detection"):
a model's likelihood is dominated by population-level background statistics (how many pixels are
dark, how smooth an image is). A background model trained on inputs whose values were perturbed at
random learns those statistics but not the semantics; the ratio cancels them:

    LLR(x) = log p_model(x) - log p_background(x),     score = -LLR(x) (higher = more anomalous).

Perturbation: each input value is replaced, independently with probability mu (the mutation rate),
by a value drawn uniformly from the data's range (an 8-bit level for 8-bit data). mu = 0.2: Xiao et
al.'s (2020) reference code for this baseline on Fashion-MNIST (Ren et al. tune mu in [0.1, 0.3] on
held-out data); the background has the model's architecture and training settings (as in both
papers' VAE and PixelCNN++ set-ups, which also add L2 weight decay that vaekit's trainer does not have).
"""

from __future__ import annotations

import numpy as np
import torch

from ...errors import UserError
from .registry import OodMethod, register_method
from .scoring import ScoredSet, Scorer

MUTATION_RATE = 0.2


def perturb(values: torch.Tensor, rate: float, generator: torch.Generator) -> torch.Tensor:
    """``values`` (N, ...) with each entry replaced, with probability ``rate``, by a uniform draw from the
    data's range: a level 0..255 for uint8 values, else uniform on [min, max] of ``values``."""
    if not 0 <= rate <= 1:
        raise UserError(f"mutation rate must lie in [0, 1], got {rate}")
    mask = torch.rand(values.shape, generator=generator) < rate
    if values.dtype == torch.uint8:
        noise = torch.randint(0, 256, values.shape, generator=generator, dtype=torch.uint8)
    else:
        low, high = float(values.min()), float(values.max())
        noise = low + (high - low) * torch.rand(values.shape, generator=generator)
    return torch.where(mask, noise.to(values.dtype), values)


def ratio_scores(nll_model: np.ndarray, nll_background: np.ndarray) -> np.ndarray:
    """-LLR = -log p_model(x) + log p_background(x) (N,), nats."""
    return nll_model - nll_background


def likelihood_ratio(scorer: Scorer, scored: ScoredSet) -> np.ndarray:
    """-LLR(x) (N,) nats, both log-likelihoods importance-sampled with the same k and seed."""
    background = scorer.background_model()
    return ratio_scores(scorer.nll(scored), -scorer.terms(scored, background, key="background")["log_px"])


register_method(OodMethod("likelihood_ratio", "-(log p(x) - log p_background(x)), nats", likelihood_ratio,
                          reference="Ren et al. 2019"))
