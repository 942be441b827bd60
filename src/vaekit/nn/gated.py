"""Gated layers (Dauphin et al., 2017), as in the VampPrior paper's code (Tomczak and Welling, 2018:
GatedDense, GatedConv2d): two parallel affine maps, one gating the other,

    h = (W1 x + b1) * sigmoid(W2 x + b2)

The gate is the nonlinearity, so a gated layer is used without a ReLU after it.
"""

from __future__ import annotations

import torch
from torch import nn


class Gated(nn.Module):
    """h = value(x) * sigmoid(gate(x)) for two modules of the same output shape."""

    def __init__(self, value: nn.Module, gate: nn.Module):
        super().__init__()
        self.value, self.gate = value, gate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.value(x) * torch.sigmoid(self.gate(x))


def gated_dense(features_in: int, features_out: int) -> Gated:
    """(*, features_in) -> (*, features_out)."""
    return Gated(nn.Linear(features_in, features_out), nn.Linear(features_in, features_out))


def gated_conv2d(channels_in: int, channels_out: int, **conv) -> Gated:
    """(B, C_in, H, W) -> (B, C_out, H', W'); ``conv`` are nn.Conv2d's arguments (kernel_size, stride, ...)."""
    return Gated(nn.Conv2d(channels_in, channels_out, **conv), nn.Conv2d(channels_in, channels_out, **conv))


def gated_conv_transpose2d(channels_in: int, channels_out: int, **conv) -> Gated:
    """The transposed-convolution counterpart of ``gated_conv2d``, for decoders that upsample."""
    return Gated(
        nn.ConvTranspose2d(channels_in, channels_out, **conv), nn.ConvTranspose2d(channels_in, channels_out, **conv)
    )
