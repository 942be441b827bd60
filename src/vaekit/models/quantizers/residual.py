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

from .base import Projections, Quantized, Quantizer, gradient_estimator
from .nearest import CODEBOOK_OPTIONS, codebook_of
from .registry import QUANTIZERS


@QUANTIZERS.register("residual")
class ResidualQuantizer(Quantizer):
    """z_e (N, D) -> [project in] -> R stages of nearest-code quantization (N, R) codes -> sum -> [project out]."""

    options = (*CODEBOOK_OPTIONS, "codebooks")

    def __init__(self, config):
        super().__init__()
        dim = config.codebook_dim or config.latent_dim
        self.size, self.ema, self.stages = config.codebook_size, config.codebook_ema, config.codebooks
        self.books = nn.ModuleList(codebook_of(config, dim) for _ in range(config.codebooks))
        self.projections = Projections(config.latent_dim, dim)
        self.estimator = gradient_estimator(config.gradient)

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
