"""The original VQ-VAE quantizer (van den Oord et al., 2017): each vector takes its nearest code of
one codebook; optional narrower codebook (projections in and out), cosine codes, k-means start,
moving averages, dead-code restarts, and straight-through or rotation-trick gradients."""

from __future__ import annotations

import torch

from typing import Literal

from .base import (COMMITMENT, RESTART, Gradient, Projections, Quantized, Quantizer, check_codebook_options,
                   gradient_estimator)
from .codebook import Codebook
from .registry import QUANTIZERS

Init = Literal["uniform", "kmeans"]  # small random codes, or k-means on the first batch's encoder outputs


@QUANTIZERS.register("nearest")
class NearestQuantizer(Quantizer):
    """z_e (N, D) -> [project in] -> nearest of K codes (N, d) -> gradient estimator -> [project out] (N, D)."""

    def __init__(self, latent_dim: int, *, codebook_size: int = 512, codebook_dim: int = 0,
                 commitment: float = COMMITMENT, ema: bool = False, restart: int = RESTART, init: Init = "uniform",
                 cosine: bool = False, gradient: Gradient = "straight_through"):
        """latent_dim: the width D of the encoder's vectors. Options (model.quantizer): ``codebook_size``
        K codes; ``codebook_dim`` d, a narrower codebook with linear projections in and out (0: D, none);
        ``commitment`` weight of ||z_e - sg[e]||^2; ``ema`` codebook by moving averages (decay 0.99)
        instead of its loss term; ``restart`` training batches a code may go unused before it is reset
        to an encoder output (0: never); ``init``; ``cosine`` unit-norm codes chosen by cosine
        similarity; ``gradient`` straight_through or rotation (the rotation trick)."""
        super().__init__()
        check_codebook_options(codebook_size, codebook_dim, commitment, restart)
        dim = codebook_dim or latent_dim
        self.size, self.ema, self.commitment = codebook_size, ema, commitment
        self.book = Codebook(codebook_size, dim, ema, restart, init, cosine)
        self.projections = Projections(latent_dim, dim)
        self.estimator = gradient_estimator(gradient)

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
