"""Convolutional trunk for images (C, H, W) of any size: 1x37x53 works as well as 3x64x64.

Each encoder layer halves H and W (rounding up); each decoder layer doubles them back with an
output padding chosen per layer, so the decoder reproduces the exact input size.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import UserError
from .gated import gated_conv2d, gated_conv_transpose2d, gated_dense
from .mlp import check_widths
from .registry import TRUNKS


def _halved(size: tuple[int, int]) -> tuple[int, int]:
    return ((size[0] + 1) // 2, (size[1] + 1) // 2)


def _sizes(height: int, width: int, layers: int) -> list[tuple[int, int]]:
    """Spatial sizes from the input to the deepest feature map: [(H, W), (ceil(H/2), ...), ...]."""
    sizes = [(height, width)]
    for _ in range(layers):
        sizes.append(_halved(sizes[-1]))
    return sizes


def _block(c_in: int, c_out: int, gated: bool, transpose: bool = False, **conv) -> list[nn.Module]:
    """A convolution and its nonlinearity: conv + ReLU, or one gated conv (the gate is the nonlinearity)."""
    if gated:
        return [(gated_conv_transpose2d if transpose else gated_conv2d)(c_in, c_out, **conv)]
    return [(nn.ConvTranspose2d if transpose else nn.Conv2d)(c_in, c_out, **conv), nn.ReLU()]


class ConvEncoder(nn.Module):
    """x (B, C, H, W) -> features (B, channels[-1] * h * w)."""

    def __init__(self, data_shape: tuple[int, int, int], channels: tuple[int, ...], gated: bool = False):
        super().__init__()
        layers: list[nn.Module] = []
        for c_in, c_out in zip([data_shape[0], *channels[:-1]], channels):
            layers += _block(c_in, c_out, gated, kernel_size=3, stride=2, padding=1)
        self.layers = nn.Sequential(*layers)
        deepest = _sizes(data_shape[1], data_shape[2], len(channels))[-1]
        self.out_features = channels[-1] * math.prod(deepest)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x).flatten(1)


class ConvDecoder(nn.Module):
    """z (B, latent_dim) -> parameters (B, params, C, H, W)."""

    def __init__(
        self, data_shape: tuple[int, int, int], channels: tuple[int, ...], latent_dim: int, params: int,
        gated: bool = False,
    ):
        super().__init__()
        sizes = _sizes(data_shape[1], data_shape[2], len(channels))
        self.start_shape = (channels[-1], *sizes[-1])
        features = math.prod(self.start_shape)
        self.project = gated_dense(latent_dim, features) if gated else nn.Linear(latent_dim, features)
        outs = [*reversed(channels[:-1]), params * data_shape[0]]
        layers: list[nn.Module] = [] if gated else [nn.ReLU()]
        steps = list(zip(reversed(channels), outs, reversed(sizes[:-1])))
        for step, (c_in, c_out, target) in enumerate(steps):
            # ConvTranspose2d(k=3, s=2, p=1) maps n to 2n - 1 + output_padding: pad 1 for even targets.
            padding = (1 - target[0] % 2, 1 - target[1] % 2)
            last = step == len(steps) - 1
            conv = dict(kernel_size=3, stride=2, padding=1, output_padding=padding)
            # The output parameters are affine: no ReLU and no gate on the last layer.
            layers += [nn.ConvTranspose2d(c_in, c_out, **conv)] if last else _block(c_in, c_out, gated, True, **conv)
        self.layers = nn.Sequential(*layers)
        self.out_shape = (params, *data_shape)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.project(z).view(-1, *self.start_shape)  # (B, C_last, h, w)
        return self.layers(h).view(-1, *self.out_shape)


@TRUNKS.register("conv")
def build_conv(data_shape: tuple[int, ...], latent_dim: int, params: int, *,
               channels: tuple[int, ...] = (32, 64), gated: bool = False):
    """(encoder, decoder) pair for images C x H x W and latents of width ``latent_dim``, the decoder
    giving ``params`` values per sub-pixel. Options (model.trunk): ``channels``, input side first,
    each layer halving H and W; ``gated`` convolutions."""
    if len(data_shape) != 3:
        shape = "x".join(map(str, data_shape))
        raise UserError(f"trunk 'conv' needs images of shape C x H x W, got {shape}; use model.trunk.name=mlp")
    check_widths("model.trunk.channels", channels)
    return (
        ConvEncoder(data_shape, channels, gated),
        ConvDecoder(data_shape, channels, latent_dim, params, gated),
    )
