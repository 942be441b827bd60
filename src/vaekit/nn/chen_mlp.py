"""The dSprites MLP of Chen et al. (2018) (``vae_quant.py``: ``MLPEncoder``, ``MLPDecoder``), which is
also disentanglement_lib's ``fc_encoder`` / ``fc_decoder`` (the beta-VAE paper's Table 1, row 1):

    encoder  x (B, *data_shape) -> flatten -> dense 1200 + ReLU -> dense 1200 + ReLU
    decoder  z (B, D) -> dense 1200 + tanh -> dense 1200 + tanh -> dense 1200 + tanh -> dense (affine)

The decoder is deeper than the encoder and uses tanh, unlike vaekit's mirrored ReLU 'mlp' trunk.
Weights start as PyTorch's defaults (Chen et al.'s code is PyTorch).
"""

from __future__ import annotations

import math

from torch import nn

from .mlp import MLPEncoder, check_widths
from .registry import TRUNKS


class TanhDecoder(nn.Module):
    """z (B, latent_dim) -> parameters (B, params, *data_shape) through tanh layers of ``hidden`` widths."""

    def __init__(self, data_shape: tuple[int, ...], hidden: tuple[int, ...], latent_dim: int, params: int):
        super().__init__()
        widths = [latent_dim, *hidden]
        layers: list[nn.Module] = []
        for width_in, width_out in zip(widths[:-1], widths[1:]):
            layers += [nn.Linear(width_in, width_out), nn.Tanh()]
        self.layers = nn.Sequential(*layers, nn.Linear(widths[-1], params * math.prod(data_shape)))
        self.out_shape = (params, *data_shape)

    def forward(self, z):
        return self.layers(z).view(-1, *self.out_shape)


@TRUNKS.register("chen_mlp")
def build_chen_mlp(data_shape: tuple[int, ...], latent_dim: int, params: int, *,
                   hidden: tuple[int, ...] = (1200, 1200), decoder_hidden: tuple[int, ...] = (1200, 1200, 1200)):
    """(encoder, decoder) of Chen et al.'s dSprites MLP (module docstring), for any data shape.
    Options (model.trunk): ``hidden``, the encoder's ReLU widths; ``decoder_hidden``, the decoder's tanh
    widths, latent side first."""
    check_widths("model.trunk.hidden", hidden)
    check_widths("model.trunk.decoder_hidden", decoder_hidden)
    return MLPEncoder(data_shape, hidden), TanhDecoder(data_shape, decoder_hidden, latent_dim, params)
