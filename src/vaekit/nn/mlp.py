"""MLP trunk for any data shape: table rows, 1-D signals, flattened images."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..config.ranges import WIDTH
from ..errors import UserError
from .gated import gated_dense
from .registry import TRUNKS


def dense_stack(widths: list[int], gated: bool = False) -> nn.Sequential:
    """(*, widths[0]) -> (*, widths[-1]): Linear + ReLU per step, or a gated layer (its gate is the
    nonlinearity, so no ReLU follows it)."""
    layers: list[nn.Module] = []
    for width_in, width_out in zip(widths[:-1], widths[1:]):
        layers += [gated_dense(width_in, width_out)] if gated else [nn.Linear(width_in, width_out), nn.ReLU()]
    return nn.Sequential(*layers)


class MLPEncoder(nn.Module):
    """x (B, *data_shape) -> features (B, hidden[-1])."""

    def __init__(self, data_shape: tuple[int, ...], hidden: tuple[int, ...], gated: bool = False):
        super().__init__()
        self.layers = dense_stack([math.prod(data_shape), *hidden], gated)
        self.out_features = hidden[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x.flatten(1))


class MLPDecoder(nn.Module):
    """z (B, latent_dim) -> parameters (B, params, *data_shape); hidden widths mirror the encoder's."""

    def __init__(
        self, data_shape: tuple[int, ...], hidden: tuple[int, ...], latent_dim: int, params: int, gated: bool = False
    ):
        super().__init__()
        widths = [latent_dim, *reversed(hidden)]
        self.layers = dense_stack(widths, gated)
        self.out = nn.Linear(widths[-1], params * math.prod(data_shape))
        self.out_shape = (params, *data_shape)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.out(self.layers(z)).view(-1, *self.out_shape)


@TRUNKS.register("mlp")
def build_mlp(data_shape: tuple[int, ...], latent_dim: int, params: int, *,
              hidden: tuple[int, ...] = (512, 256), gated: bool = False):
    """(encoder, decoder) pair for inputs of ``data_shape`` and latents of width ``latent_dim``, the
    decoder giving ``params`` values per data element. Options (model.trunk): ``hidden`` widths, input
    side first; ``gated`` layers h = (W1 x + b1) * sigmoid(W2 x + b2) instead of Linear + ReLU."""
    check_widths("model.trunk.hidden", hidden)
    return (
        MLPEncoder(data_shape, hidden, gated),
        MLPDecoder(data_shape, hidden, latent_dim, params, gated),
    )


def check_widths(key: str, widths: tuple[int, ...]) -> None:
    """A UserError naming ``key`` unless there is at least one width and every width is in ``WIDTH``'s range."""
    if not widths or not all(WIDTH.allows(width) for width in widths):
        raise UserError(f"{key} must be one or more widths, each {WIDTH.describe()}, got {list(widths)}")
