"""What every quantizer of a VQ-VAE shares: the ``Quantized`` result, the interface, the gradient
estimators, the projections of a narrower codebook, and the check of its options.

A quantizer maps encoder outputs z_e (N, D) to S code indices per vector (S = 1, or the stages of
a residual quantizer), each from K codes, and to the vectors (N, D) the decoder takes. Its value in
the forward pass is exactly the code vectors; the gradient reaching z_e is the estimator's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

from ...errors import UserError

@dataclass
class Quantized:
    """A quantizer's output for N vectors.

    codes: (N, S) int64, S code maps (one per stage), each index in [0, K).
    value: (N, D), the decoder's input: equal to the code vectors in the forward pass, with the
        gradient estimator's gradient to the encoder.
    inputs, targets: (N, S, d) or None: what entered each codebook (d wide) and the code chosen there
        (carrying the codebook's gradient), for the codebook and commitment terms of the VQ loss;
        None for a quantizer without a codebook (FSQ).
    """

    codes: torch.Tensor
    value: torch.Tensor
    inputs: torch.Tensor | None = None
    targets: torch.Tensor | None = None


class Quantizer(nn.Module):
    """The interface the VQ head, the VQ loss and the code prior use.

    ``stages`` (S) code maps of ``size`` (K) codes each; ``quantize`` (training mode may update
    state kept in buffers); ``code_vectors`` (S, K, D): what each code adds to the decoder's input,
    so that a grid of codes decodes as the sum over stages; ``ema``: the codebook follows moving
    averages, so the VQ loss has no codebook term.
    """

    stages: int = 1
    commitment: float = 0.0  # the weight of the VQ loss's commitment term (0: no codebook, no term)
    size: int
    ema: bool = False

    def quantize(self, z_e: torch.Tensor) -> Quantized:
        raise NotImplementedError

    def code_vectors(self) -> torch.Tensor:
        raise NotImplementedError


# The defaults of the quantizers with codebooks (nearest, residual), chosen so that a short run uses most of
# its codebook (REPRODUCTION.md, "VQ-VAE codebook use in short runs"): with the paper's 0.25 and restarts
# after 100 unused batches, 3 epochs on digits (33 batches of 128) left 98 % of 512 codes dead. The codes
# start within +-1/K while the encoder's outputs are of order 1 and move faster than Adam moves a code
# (about lr per step), so only a few codes are ever nearest; a restart after 2 unused batches puts the
# others at encoder outputs within the run, and the commitment weight 1.0 keeps the encoder's outputs
# near the codes, so that the restarted codes stay chosen.
COMMITMENT = 1.0
RESTART = 2


def check_codebook_options(codebook_size: int, codebook_dim: int, commitment: float, restart: int) -> None:
    """The range checks of the options of the quantizers with codebooks (nearest, residual)."""
    if codebook_size < 1:
        raise UserError(f"model.quantizer.codebook_size must be at least 1, got {codebook_size}")
    for key, value in (("codebook_dim", codebook_dim), ("commitment", commitment), ("restart", restart)):
        if value < 0:
            raise UserError(f"model.quantizer.{key} must be >= 0, got {value}")


# --- gradient estimators: z_e (N, d) and the chosen codes z_q (N, d) -> the value (N, d) ------------


def straight_through(z_e: torch.Tensor, z_q: torch.Tensor) -> torch.Tensor:
    """z_q in the forward pass, the identity in the backward pass (van den Oord et al., 2017).
    Written as sg[z_q] + (z_e - sg[z_e]) so that the value is z_q exactly (the second term is 0)."""
    return z_q.detach() + (z_e - z_e.detach())


def rotation(z_e: torch.Tensor, z_q: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """The rotation trick (Fifty et al., 2024): z_q in the forward pass; backward, the gradient g at
    the output reaches z_e as lambda R^T g, with R the rotation taking the direction of z_e to that of
    z_q and lambda = ||z_q|| / ||z_e|| (both treated as constants):

        R = I - 2 r r^T + 2 q e^T,   e = z_e / ||z_e||,  q = z_q / ||z_q||,  r = (e + q) / ||e + q||.

    So the angle between the gradient and the code is preserved, where straight-through copies g.
    R z_e is applied without building R; the value is sg[z_q] + (out - sg[out]), exactly z_q."""
    e_norm, q_norm = z_e.detach().norm(dim=-1, keepdim=True), z_q.detach().norm(dim=-1, keepdim=True)
    e, q = z_e.detach() / (e_norm + eps), z_q.detach() / (q_norm + eps)  # (N, d) unit directions
    r = F.normalize(e + q, dim=-1, eps=eps)  # (N, d)
    dot = lambda a, b: (a * b).sum(-1, keepdim=True)  # noqa: E731  (N, 1)
    rotated = z_e - 2 * r * dot(r, z_e) + 2 * q * dot(e, z_e)  # R z_e, (N, d)
    out = q_norm / (e_norm + eps) * rotated
    return z_q.detach() + (out - out.detach())


GRADIENTS = {"straight_through": straight_through, "rotation": rotation}
Gradient = Literal["straight_through", "rotation"]  # the option model.quantizer.gradient: a key of GRADIENTS


def gradient_estimator(name: str):
    if name not in GRADIENTS:
        raise UserError(f"model.quantizer.gradient {name!r} is not one of: {', '.join(GRADIENTS)}")
    return GRADIENTS[name]


# --- projections: a codebook narrower than the encoder's output --------------------------------------


class Projections(nn.Module):
    """Linear maps D -> d into the codebook's space and d -> D out of it; identities when d == D
    (no parameters, so a quantizer without them keeps the weights it always had)."""

    def __init__(self, width: int, dim: int):
        super().__init__()
        self.into = nn.Linear(width, dim) if dim != width else nn.Identity()
        self.out = nn.Linear(dim, width) if dim != width else nn.Identity()

    def out_table(self, vectors: torch.Tensor) -> torch.Tensor:
        """(S, K, d) code vectors of S stages -> (S, K, D), such that a sum over stages of rows equals
        ``out`` of the sum of the codes (the bias of ``out`` goes to the first stage only)."""
        if isinstance(self.out, nn.Identity):
            return vectors
        table = vectors @ self.out.weight.T  # (S, K, D)
        return torch.cat([table[:1] + self.out.bias, table[1:]])
