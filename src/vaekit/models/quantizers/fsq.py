"""Finite scalar quantization (Mentzer et al., 2023): each of d = len(levels) dimensions is bounded
and rounded to one of L_i values, so the implicit codebook is the grid of prod_i L_i points. There is
no codebook to learn or collapse, no codebook or commitment term; the gradient passes the rounding
straight through (and the bound's tanh as it is).

    z (N, D) -> [project in] -> bound: h_i = tanh(z_i + s_i) * a_i - o_i -> round -> / (L_i // 2) -> [project out]

with a_i = (L_i - 1)(1 + eps) / 2, o_i = 1/2 for even L_i (else 0) and s_i = atanh(o_i / a_i), so that
h_i rounds to L_i integers, {-(L_i - 1)/2, ..., (L_i - 1)/2} for odd L_i and {-L_i/2, ..., L_i/2 - 1}
for even ones; the grid lies in [-1, 1]. A point's index is its mixed-radix number: digits
round(h_i) + L_i // 2 in [0, L_i), the first dimension least significant.
"""

from __future__ import annotations

import math

import torch

from ...errors import UserError
from .base import Projections, Quantized, Quantizer
from .registry import QUANTIZERS

BOUND_EPS = 1e-3  # keeps tanh's range just wider than the outer levels, so they are reached


@QUANTIZERS.register("fsq")
class FSQ(Quantizer):
    """z_e (N, D) -> one index (N, 1) of prod(levels) grid points, and the point (N, D)."""

    def __init__(self, latent_dim: int, *, levels: tuple[int, ...] = (8, 5, 5, 5)):
        """latent_dim: the width D of the encoder's vectors. Option (model.quantizer): ``levels`` per
        dimension of the grid (each >= 2); codes = their product."""
        super().__init__()
        levels = tuple(levels)
        if not levels or min(levels) < 2:
            raise UserError(f"model.quantizer.levels must be one or more levels, each at least 2; got {list(levels)}")
        self.size = math.prod(levels)
        self.projections = Projections(latent_dim, len(levels))
        self.register_buffer("levels", torch.tensor(levels), persistent=False)
        basis = torch.cumprod(torch.tensor((1, *levels[:-1])), 0)
        self.register_buffer("basis", basis, persistent=False)  # (d,) mixed-radix place values

    def bound(self, z: torch.Tensor) -> torch.Tensor:
        """(N, d) -> (N, d), each coordinate in the open interval that rounds to its L_i integers."""
        half = (self.levels - 1) * (1 + BOUND_EPS) / 2
        offset = (self.levels % 2 == 0).to(z) / 2
        shift = torch.atanh(offset / half)
        return torch.tanh(z + shift) * half - offset

    def quantize(self, z_e: torch.Tensor) -> Quantized:
        h = self.bound(self.projections.into(z_e))  # (N, d)
        rounded = h.round()
        grid = (rounded.detach() + (h - h.detach())) / (self.levels // 2)  # straight through the rounding
        digits = rounded.long() + self.levels // 2  # (N, d) in [0, L_i)
        return Quantized((digits * self.basis).sum(-1, keepdim=True), self.projections.out(grid))

    def grid(self, codes: torch.Tensor) -> torch.Tensor:
        """codes (*lead,) -> the grid points (*lead, d) they index, in [-1, 1]."""
        digits = codes.unsqueeze(-1) // self.basis % self.levels  # (*lead, d)
        return (digits - self.levels // 2).to(torch.get_default_dtype()) / (self.levels // 2)

    def code_vectors(self) -> torch.Tensor:
        points = self.grid(torch.arange(self.size, device=self.levels.device))  # (K, d)
        return self.projections.out_table(points.unsqueeze(0))  # (1, K, D)
