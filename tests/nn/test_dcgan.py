"""Xiao et al.'s DCGAN VAE as the 'dcgan' trunk: the reference's layer shapes (their parameter counts for
32x32 Fashion-MNIST, nz 100, ngf 32, worked out from DCGAN_VAE_pixel.py), the identity the weight
conversion rests on (their two 4x4 posterior convolutions over the 4x4 map are vaekit's linear head on the
flattened map), and a model built on it training a step with the 256-way categorical likelihood."""

import pytest
import torch
import torch.nn.functional as F

from vaekit import TRUNKS, Config, UserError, build_model
from vaekit.data.batch import Batch
from vaekit.objectives import ELBO


def count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_dcgan_has_the_references_layers_at_32x32():
    encoder, decoder = TRUNKS.get("dcgan")((1, 32, 32), 100, 256)
    # convs 1->32, 32->64, 64->128 (4x4, no bias), each with BatchNorm (weight, bias)
    assert count(encoder) == 16 * 32 + 2 * 32 + 16 * 32 * 64 + 2 * 64 + 16 * 64 * 128 + 2 * 128
    # convT 100->128 (4x4, 1 -> 4 pixels), 128->64, 64->32 (each + BatchNorm), 32->256 logits; no biases
    assert count(decoder) == (16 * 100 * 128 + 2 * 128) + (16 * 128 * 64 + 2 * 64) + (16 * 64 * 32 + 2 * 32) + (
        16 * 32 * 256)
    assert encoder.out_features == 128 * 4 * 4
    assert encoder(torch.rand(2, 1, 32, 32)).shape == (2, 2048)
    assert decoder(torch.randn(2, 100)).shape == (2, 256, 1, 32, 32)


def test_dcgan_takes_any_power_of_two_side_with_one_more_layer_per_doubling():
    encoder, decoder = TRUNKS.get("dcgan")((3, 64, 64), 8, 2, ngf=4)
    assert sum(isinstance(m, torch.nn.Conv2d) for m in encoder.modules()) == 4
    assert encoder.out_features == 32 * 4 * 4
    assert decoder(torch.randn(5, 8)).shape == (5, 2, 3, 64, 64)


def test_two_4x4_convolutions_over_the_4x4_map_are_one_linear_layer_on_the_flat_map():
    """The reference's posterior (conv1 -> mu, conv2 -> log sigma^2, kernel 4 over the 4x4 map, output 1x1)
    equals vaekit's head with rows [conv1; conv2] flattened: the conversion in benchmarks/ood_reference.py."""
    torch.manual_seed(0)
    features = torch.randn(3, 8, 4, 4)
    w1, w2, b1, b2 = torch.randn(5, 8, 4, 4), torch.randn(5, 8, 4, 4), torch.randn(5), torch.randn(5)
    mu, log_var = F.conv2d(features, w1, b1).flatten(1), F.conv2d(features, w2, b2).flatten(1)
    weight, bias = torch.cat([w1.reshape(5, -1), w2.reshape(5, -1)]), torch.cat([b1, b2])
    stacked = F.linear(features.flatten(1), weight, bias)
    torch.testing.assert_close(stacked, torch.cat([mu, log_var], 1), rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("shape, options, fragment", [
    ((1, 28, 28), {}, "power of two, at least 16; got side 28"),
    ((1, 8, 8), {}, "at least 16; got side 8"),
    ((1, 32, 16), {}, "square images C x S x S, got 1x32x16"),
    ((784,), {}, "square images"),
    ((1, 32, 32), {"ngf": 0}, "model.trunk.ngf must be at least 1"),
])
def test_dcgan_refuses_what_it_cannot_take(shape, options, fragment):
    with pytest.raises(UserError, match=fragment):
        TRUNKS.get("dcgan")(shape, 10, 1, **options)


def test_a_vae_on_the_dcgan_trunk_trains_a_step_with_the_256_way_likelihood():
    torch.manual_seed(0)
    config = Config.from_dict({"model": {"name": "vae", "latent_dim": 6, "trunk": {"name": "dcgan", "ngf": 4},
                                         "likelihood": {"name": "categorical256"}}}, "test")
    model = build_model(config.model, (1, 16, 16))
    x = torch.randint(0, 256, (4, 1, 16, 16)).float() / 255
    loss = ELBO()(model, Batch(x)).loss
    loss.backward()
    assert torch.isfinite(loss)
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    # 256 levels a sub-pixel: an untrained model is near log 256 nats per sub-pixel, not below 0
    assert 0.5 * 256 * 5.545 < loss.item() < 3 * 256 * 5.545 + 1e3
