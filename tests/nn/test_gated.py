"""Gated layers compute h = (W1 x + b1) * sigmoid(W2 x + b2); the trunks use them when
model.gated is set, and keep their parameter names (so their checkpoints) when it is not."""

import pytest
import torch
import torch.nn.functional as F

from vaekit import ModelConfig, build_model
from vaekit.nn.gated import Gated, gated_conv2d, gated_conv_transpose2d, gated_dense


def test_gated_dense_is_the_formula():
    torch.manual_seed(0)
    layer = gated_dense(5, 3)
    x = torch.randn(4, 5)
    value = x @ layer.value.weight.T + layer.value.bias
    gate = 1 / (1 + torch.exp(-(x @ layer.gate.weight.T + layer.gate.bias)))
    torch.testing.assert_close(layer(x), value * gate)


def test_gated_convolutions_are_the_formula():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 9, 7)
    conv = gated_conv2d(3, 4, kernel_size=3, stride=2, padding=1)
    expected = F.conv2d(x, conv.value.weight, conv.value.bias, stride=2, padding=1) * torch.sigmoid(
        F.conv2d(x, conv.gate.weight, conv.gate.bias, stride=2, padding=1))
    torch.testing.assert_close(conv(x), expected)
    up = gated_conv_transpose2d(3, 2, kernel_size=3, stride=2, padding=1, output_padding=1)
    expected = F.conv_transpose2d(x, up.value.weight, up.value.bias, 2, 1, 1) * torch.sigmoid(
        F.conv_transpose2d(x, up.gate.weight, up.gate.bias, 2, 1, 1))
    torch.testing.assert_close(up(x), expected)


@pytest.mark.parametrize("trunk, shape", [("mlp", (12,)), ("conv", (1, 9, 7)), ("conv", (3, 8, 10))])
def test_trunks_use_gated_layers_when_asked(trunk, shape):
    config = ModelConfig(trunk=trunk, latent_dim=2, hidden=(8, 6), channels=(4, 5), likelihood="gaussian", gated=True)
    model = build_model(config, shape)
    for part in (model.encoder, model.decoder):
        assert any(isinstance(module, Gated) for module in part.modules())
        assert not any(isinstance(module, torch.nn.ReLU) for module in part.modules())  # the gate is the nonlinearity
    x = torch.randn(3, *shape)
    assert model.decode(model.encode(x).rsample()).mean.shape == x.shape  # exact sizes, odd ones included


@pytest.mark.parametrize("trunk, shape, names", [
    ("mlp", (12,), ["encoder.layers.0.weight", "decoder.layers.0.weight", "decoder.out.weight"]),
    ("conv", (1, 9, 7), ["encoder.layers.0.weight", "encoder.layers.2.weight", "decoder.project.weight",
                         "decoder.layers.1.weight", "decoder.layers.3.weight"]),
])
def test_plain_trunks_keep_their_parameter_names(trunk, shape, names):
    config = ModelConfig(trunk=trunk, latent_dim=2, hidden=(8,), channels=(4, 5), likelihood="gaussian")
    state = build_model(config, shape).state_dict()
    assert set(names) <= set(state)
    assert not any(".value." in name or ".gate." in name for name in state)
