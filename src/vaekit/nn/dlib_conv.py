"""disentanglement_lib's convolutional trunk for 64x64 images (Locatello et al., 2019; the beta-VAE
paper's Table 1, row 3), as in its ``methods/shared/architectures.py`` (``conv_encoder``,
``deconv_decoder``):

    encoder  x (B, C, 64, 64) -> conv 32 k4 s2 -> conv 32 k4 s2 -> conv 64 k2 s2 -> conv 64 k2 s2
             (ReLU each, TF 'same' padding: 32, 16, 8, 4 pixels) -> flatten 1024 -> dense 256 + ReLU
    decoder  z (B, D) -> dense 256 + ReLU -> dense 1024 + ReLU -> (64, 4, 4) -> deconv 64 k4 s2 ->
             deconv 32 k4 s2 -> deconv 32 k4 s2 (ReLU each) -> deconv params*C k4 s2 (64x64, affine)

(The reference's last two encoder convolutions have 2x2 kernels; the papers' text says 4x4.) The
options give Kim and Mnih's (2018) FactorVAE network too: ``kernels`` (4, 4, 4, 4), ``dense`` 128.
Weights start as TensorFlow's defaults do there: Glorot-uniform kernels, zero biases.
"""

from __future__ import annotations

from torch import nn

from ..errors import UserError
from .registry import TRUNKS

SIDE, DEEPEST = 64, 4  # the image side it takes, and the side of its deepest feature map
WIDTHS = (32, 32, 64, 64)  # the encoder's channels, input side first


def glorot(module: nn.Module) -> nn.Module:
    """``module`` with every conv and dense kernel Glorot-uniform and every bias zero (TF's defaults)."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return module


class DlibConvEncoder(nn.Module):
    """x (B, C, 64, 64) -> features (B, dense)."""

    def __init__(self, channels: int, dense: int, kernels: tuple[int, ...]):
        super().__init__()
        layers: list[nn.Module] = []
        for c_in, c_out, k in zip((channels, *WIDTHS[:-1]), WIDTHS, kernels):
            # TF 'same' padding at stride 2 on even sides: (k - 2) / 2 each side, so each layer halves
            layers += [nn.Conv2d(c_in, c_out, k, 2, (k - 2) // 2), nn.ReLU()]  # 32, 16, 8, 4 pixels
        self.layers = glorot(nn.Sequential(
            *layers, nn.Flatten(), nn.Linear(WIDTHS[-1] * DEEPEST**2, dense), nn.ReLU(),  # (B, dense)
        ))
        self.out_features = dense

    def forward(self, x):
        return self.layers(x)


class DlibDeconvDecoder(nn.Module):
    """z (B, latent_dim) -> parameters (B, params, C, 64, 64)."""

    def __init__(self, channels: int, latent_dim: int, params: int, dense: int):
        super().__init__()
        self.layers = glorot(nn.Sequential(
            nn.Linear(latent_dim, dense), nn.ReLU(),
            nn.Linear(dense, 64 * DEEPEST**2), nn.ReLU(),
            nn.Unflatten(1, (64, DEEPEST, DEEPEST)),  # (B, 64, 4, 4)
            nn.ConvTranspose2d(64, 64, 4, 2, 1), nn.ReLU(),  # (B, 64, 8, 8)
            nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),  # (B, 32, 16, 16)
            nn.ConvTranspose2d(32, 32, 4, 2, 1), nn.ReLU(),  # (B, 32, 32, 32)
            nn.ConvTranspose2d(32, params * channels, 4, 2, 1),  # (B, params * C, 64, 64): affine
        ))
        self.out_shape = (params, channels, SIDE, SIDE)

    def forward(self, z):
        return self.layers(z).view(-1, *self.out_shape)


@TRUNKS.register("dlib_conv")
def build_dlib_conv(data_shape: tuple[int, ...], latent_dim: int, params: int, *, dense: int = 256,
                    kernels: tuple[int, ...] = (4, 4, 2, 2)):
    """(encoder, decoder) of disentanglement_lib's conv_encoder and deconv_decoder (module docstring)
    for images C x 64 x 64. Options (model.trunk): ``dense``, the width of the encoder's last layer
    and the decoder's first (256 there); ``kernels``, the four encoder convolutions' sizes (2 or 4)."""
    if len(data_shape) != 3 or tuple(data_shape[1:]) != (SIDE, SIDE):
        shape = "x".join(map(str, data_shape))
        raise UserError(f"trunk 'dlib_conv' takes images C x 64 x 64 (dSprites' size), got {shape}; "
                        "use model.trunk.name=conv for other sizes")
    if dense < 1:
        raise UserError(f"model.trunk.dense must be at least 1, got {dense}")
    if len(kernels) != len(WIDTHS) or any(k not in (2, 4) for k in kernels):
        raise UserError(f"model.trunk.kernels must be four sizes, each 2 or 4, got {list(kernels)}")
    channels = data_shape[0]
    return DlibConvEncoder(channels, dense, kernels), DlibDeconvDecoder(channels, latent_dim, params, dense)
