"""The original VQ-VAE quantizer (van den Oord et al., 2017): each vector takes its nearest code of
one codebook; optional narrower codebook (projections in and out), cosine codes, k-means start,
moving averages, dead-code restarts, and straight-through or rotation-trick gradients."""

from __future__ import annotations

import torch

from .base import Projections, Quantized, Quantizer, gradient_estimator
from .codebook import Codebook
from .registry import QUANTIZERS

CODEBOOK_OPTIONS = ("codebook_size", "commitment", "codebook_ema", "codebook_restart", "codebook_init",
                    "codebook_cosine", "codebook_dim", "gradient")


def codebook_of(config, dim: int) -> Codebook:
    """A ``Codebook`` of config.codebook_size vectors of width ``dim`` with the config's remedies."""
    return Codebook(config.codebook_size, dim, config.codebook_ema, config.codebook_restart, config.codebook_init,
                    config.codebook_cosine)


@QUANTIZERS.register("nearest")
class NearestQuantizer(Quantizer):
    """z_e (N, D) -> [project in] -> nearest of K codes (N, d) -> gradient estimator -> [project out] (N, D)."""

    options = CODEBOOK_OPTIONS

    def __init__(self, config):
        super().__init__()
        dim = config.codebook_dim or config.latent_dim
        self.size, self.ema = config.codebook_size, config.codebook_ema
        self.book = codebook_of(config, dim)
        self.projections = Projections(config.latent_dim, dim)
        self.estimator = gradient_estimator(config.gradient)

    @property
    def codebook(self) -> torch.Tensor:
        return self.book.codebook

    def quantize(self, z_e: torch.Tensor) -> Quantized:
        z = self.book.prepare(self.projections.into(z_e))  # (N, d)
        codes, z_q = self.book(z)  # (N,), (N, d)
        value = self.projections.out(self.estimator(z, z_q))  # (N, D)
        return Quantized(codes.unsqueeze(1), value, z.unsqueeze(1), z_q.unsqueeze(1))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        """Weights saved before the quantizers were parts of their own held the codebook's tensors
        directly (PREFIXcodebook, ...); they load into ``book``."""
        for name in ("codebook", "ema_count", "ema_sum", "unused_steps"):
            if prefix + name in state_dict:
                state_dict[f"{prefix}book.{name}"] = state_dict.pop(prefix + name)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def code_vectors(self) -> torch.Tensor:
        return self.projections.out_table(self.book.vectors().unsqueeze(0))  # (1, K, D)
