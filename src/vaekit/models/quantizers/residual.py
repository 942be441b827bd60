"""Residual vector quantization (Zeghidour et al., 2021; Lee et al., 2022): R stages, each with its
own codebook, each quantizing what the stages before it left:

    r_1 = z,   c_s = nearest code of r_s in codebook s,   r_{s+1} = r_s - sg[e_{c_s}],   z_q = sum_s e_{c_s}

so each stage codes what the ones before missed, and with codebooks fitted to their residuals (as
training and k-means initialisation make them) the error of z_q shrinks with more stages. The VQ loss sums its codebook and commitment terms over the stages; the gradient
estimator carries the decoder's gradient from z_q to z once, for the sum.
"""

from __future__ import annotations

import torch
from torch import nn

from ...errors import UserError

from .base import (COMMITMENT, RESTART, Gradient, Projections, Quantized, Quantizer, check_codebook_options,
                   gradient_estimator)
from .codebook import Codebook
from .nearest import Init
from .registry import QUANTIZERS


@QUANTIZERS.register("residual")
class ResidualQuantizer(Quantizer):
    """z_e (N, D) -> [project in] -> R stages of nearest-code quantization (N, R) codes -> sum -> [project out]."""

    def __init__(self, latent_dim: int, *, codebooks: int = 1, codebook_size: int = 512, codebook_dim: int = 0,
                 commitment: float = COMMITMENT, ema: bool = False, restart: int = RESTART, init: Init = "uniform",
                 cosine: bool = False, gradient: Gradient = "straight_through"):
        """``codebooks``: the stages R, each with a codebook of its own; the other options as the
        nearest quantizer's."""
        super().__init__()
        check_codebook_options(codebook_size, codebook_dim, commitment, restart)
        if codebooks < 1:
            raise UserError(f"model.quantizer.codebooks must be at least 1, got {codebooks}")
        dim = codebook_dim or latent_dim
        self.size, self.ema, self.stages, self.commitment = codebook_size, ema, codebooks, commitment
        self.books = nn.ModuleList(Codebook(codebook_size, dim, ema, restart, init, cosine) for _ in range(codebooks))
        self.projections = Projections(latent_dim, dim)
        self.estimator = gradient_estimator(gradient)

    def quantize(self, z_e: torch.Tensor, stages: int | None = None) -> Quantized:
        """``stages``: use only the first ones (all by default)."""
        z = self.projections.into(z_e)  # (N, d)
        residual, codes, inputs, targets = z, [], [], []
        for book in self.books[:stages]:
            r = book.prepare(residual)  # with cosine codes, each stage compares directions
            c, e = book(r)  # (N,), (N, d)
            codes.append(c), inputs.append(r), targets.append(e)
            residual = residual - e.detach()
        total = torch.stack(targets, 1).sum(1)  # (N, d)
        value = self.projections.out(self.estimator(z, total))
        return Quantized(torch.stack(codes, 1), value, torch.stack(inputs, 1), torch.stack(targets, 1))

    def code_vectors(self) -> torch.Tensor:
        return self.projections.out_table(torch.stack([book.vectors() for book in self.books]))  # (R, K, D)
