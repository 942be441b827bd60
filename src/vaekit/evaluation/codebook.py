"""Codebook health of a VQ-VAE: how often each code is chosen, its usage, perplexity and dead codes.

Training logs ``codebook_statistics`` on the validation split with each epoch's row of metrics.csv
(codebook_usage, codebook_perplexity, codebook_dead; numbered codebook1_..., codebook2_... for the
stages of a residual quantiser), and ``vaekit eval`` adds the histogram, code_counts (one list per
codebook). A model without codebooks has none of them.
"""

from __future__ import annotations

import math

import torch

from ..data.array import batches
from ..models.vq import VQVAE
from .metrics import Metric, register_metric


@torch.no_grad()
def code_counts(model: VQVAE, data, batch_size: int = 1024) -> torch.Tensor:
    """(S, K) int64 CPU: how often each code of each of the S codebooks is chosen over every position
    of every example of ``data``."""
    parameter = next(model.parameters())
    stages, size = model.quantizer.stages, model.quantizer.size
    offsets = torch.arange(stages, device=parameter.device) * size  # stage s counts in [s K, (s + 1) K)
    counts = torch.zeros(stages * size, dtype=torch.long, device=parameter.device)
    for x in batches(data, batch_size, parameter):
        codes = model.codes(x).view(len(x), -1, stages) + offsets  # (B, P, S)
        counts += torch.bincount(codes.flatten(), minlength=len(counts))
    return counts.view(stages, size).cpu()


def health(counts: torch.Tensor) -> dict[str, float]:
    """Per codebook of ``counts`` (S, K): usage, the share of codes chosen at least once; perplexity
    (``perplexity``); dead, the number of codes never chosen. Keys codebook_usage, ... for one
    codebook, codebook1_usage, codebook2_usage, ... for stages."""
    result = {}
    for stage, row in enumerate(counts):
        prefix = "codebook" if len(counts) == 1 else f"codebook{stage + 1}"
        used = int((row > 0).sum())
        result.update({f"{prefix}_usage": used / len(row), f"{prefix}_perplexity": perplexity(row),
                       f"{prefix}_dead": len(row) - used})
    return result


def perplexity(counts: torch.Tensor) -> float:
    """exp of the entropy (nats) of the code histogram ``counts`` (K,): from 1 (one code) to K (uniform)."""
    p = counts.double() / counts.sum()
    return math.exp(float(-torch.special.xlogy(p, p).sum()))


def codebook_statistics(model, data) -> dict[str, float]:
    """``health`` of the codes ``model`` chooses over ``data`` (a VQ-VAE; nothing for other models):
    the numbers training logs with each epoch."""
    return health(code_counts(model, data)) if isinstance(model, VQVAE) else {}


def codebook_evaluation(model, data) -> dict:
    """``codebook_statistics`` and code_counts, each codebook's histogram (lists), for eval.json."""
    if not isinstance(model, VQVAE):
        return {}
    counts = code_counts(model, data)
    return {**health(counts), "code_counts": counts.tolist()}


register_metric(Metric("codebook_usage", "share of codes used", "codebook", order="higher_is_better", stages=True))
register_metric(Metric("codebook_perplexity", "code perplexity", "codebook", format=".2f", order="higher_is_better",
                       stages=True))
register_metric(Metric("codebook_dead", "dead codes", "codebook", order="lower_is_better", stages=True))
register_metric(Metric("code_counts", "uses of each code", "codebook", table=False))
