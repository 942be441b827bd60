"""The DCGAN-style VAE of Xiao, Yan and Amit (2020, "Likelihood regret"; their reference code's
``DCGAN_VAE_pixel.py``), which their out-of-distribution study trains on 32x32 Fashion-MNIST and CIFAR-10:

    encoder  x (B, C, S, S) -> conv ngf k4 s2 (no bias) + BatchNorm + ReLU -> ... doubling the channels,
             halving the side, down to 4x4 (ngf * 2^(n-3) channels, S = 2^n) -> flatten (B, ngf * 2^(n-3) * 16)
    decoder  z (B, D) -> (B, D, 1, 1) -> convT to (ngf * 2^(n-3), 4, 4) (no bias) + BatchNorm + ReLU ->
             convT k4 s2 (no bias) + BatchNorm + ReLU halving the channels ... -> convT params*C k4 s2 (affine)

Their posterior is two 4x4 convolutions over the 4x4 map, the same map as vaekit's posterior head (one
linear layer on the flattened features), so their trained weights load into this trunk and the head
unchanged (``benchmarks/ood_reference.py``). The side must be a power of two, at least 16.
"""

from __future__ import annotations

import math

from torch import nn

from ..errors import UserError
from .registry import TRUNKS

DEEPEST = 4  # the side of the deepest feature map


def levels(side: int) -> int:
    """Stride-2 layers from ``side`` down to DEEPEST; a UserError unless side is a power of two >= 16."""
    n = math.log2(side) if side > 0 else 0.5
    if n != int(n) or side < 16:
        raise UserError(f"trunk 'dcgan' takes square images whose side is a power of two, at least 16; got side "
                        f"{side}; resize them (data.image_size) or use model.trunk.name=conv")
    return int(n) - 2


def unit(c_in: int, c_out: int, transpose: bool, **conv) -> list[nn.Module]:
    """A bias-free (transposed) convolution, BatchNorm and ReLU, as the reference code's blocks."""
    layer = nn.ConvTranspose2d if transpose else nn.Conv2d
    return [layer(c_in, c_out, bias=False, **conv), nn.BatchNorm2d(c_out), nn.ReLU()]


class DcganEncoder(nn.Module):
    """x (B, C, S, S) -> features (B, ngf * 2^(L-1) * 16), L = log2(S) - 2 stride-2 layers."""

    def __init__(self, channels: int, side: int, ngf: int):
        super().__init__()
        widths = [ngf * 2**i for i in range(levels(side))]
        layers: list[nn.Module] = []
        for c_in, c_out in zip([channels, *widths[:-1]], widths):
            layers += unit(c_in, c_out, False, kernel_size=4, stride=2, padding=1)
        self.main = nn.Sequential(*layers)
        self.out_features = widths[-1] * DEEPEST**2

    def forward(self, x):
        return self.main(x).flatten(1)


class DcganDecoder(nn.Module):
    """z (B, latent_dim) -> parameters (B, params, C, S, S)."""

    def __init__(self, channels: int, side: int, ngf: int, latent_dim: int, params: int):
        super().__init__()
        widths = [ngf * 2**i for i in reversed(range(levels(side)))]  # deepest first
        layers = unit(latent_dim, widths[0], True, kernel_size=4, stride=1, padding=0)  # (B, widths[0], 4, 4)
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += unit(c_in, c_out, True, kernel_size=4, stride=2, padding=1)
        # The output parameters are affine: no BatchNorm, no ReLU, and (as the reference) no bias.
        layers.append(nn.ConvTranspose2d(widths[-1], params * channels, 4, 2, 1, bias=False))
        self.main = nn.Sequential(*layers)
        self.out_shape = (params, channels, side, side)

    def forward(self, z):
        return self.main(z[:, :, None, None]).view(-1, *self.out_shape)


@TRUNKS.register("dcgan")
def build_dcgan(data_shape: tuple[int, ...], latent_dim: int, params: int, *, ngf: int = 32):
    """(encoder, decoder) of Xiao et al.'s DCGAN VAE (module docstring) for square images C x S x S,
    S a power of two (32 in their study). Options (model.trunk): ``ngf``, the first layer's channels (32)."""
    if len(data_shape) != 3 or data_shape[1] != data_shape[2]:
        shape = "x".join(map(str, data_shape))
        raise UserError(f"trunk 'dcgan' takes square images C x S x S, got {shape}; use model.trunk.name=conv")
    if ngf < 1:
        raise UserError(f"model.trunk.ngf must be at least 1, got {ngf}")
    channels, side = data_shape[0], data_shape[1]
    return DcganEncoder(channels, side, ngf), DcganDecoder(channels, side, ngf, latent_dim, params)
