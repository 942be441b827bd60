"""The papers' networks as registered trunks: disentanglement_lib's conv_encoder / deconv_decoder
('dlib_conv') and Chen et al.'s dSprites MLP ('chen_mlp'), checked against the references' layer
shapes (their parameter counts, worked out from architectures.py and vae_quant.py), and the
contract of a model built on them: finite loss, a gradient on every weight, exact save/load."""

import pytest
import torch

from vaekit import TRUNKS, Config, UserError, build_model, save_model
from vaekit.data.batch import Batch
from vaekit.objectives import ELBO
from vaekit.training.checkpoint import load_model


def count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_dlib_conv_has_disentanglement_libs_layers():
    encoder, decoder = TRUNKS.get("dlib_conv")((1, 64, 64), 10, 1)
    # e1 4x4 1->32, e2 4x4 32->32, e3 2x2 32->64, e4 2x2 64->64, e5 1024->256 (weights + biases)
    assert count(encoder) == (16 * 32 + 32) + (16 * 32 * 32 + 32) + (4 * 32 * 64 + 64) + (4 * 64 * 64 + 64) + (
        1024 * 256 + 256) == 304_064
    # d1 10->256, d2 256->1024, d3 4x4 64->64, d4 64->32, d5 32->32, d6 32->1
    assert count(decoder) == (10 * 256 + 256) + (256 * 1024 + 1024) + (16 * 64 * 64 + 64) + (16 * 64 * 32 + 32) + (
        16 * 32 * 32 + 32) + (16 * 32 + 1) == 381_313
    x = torch.rand(2, 1, 64, 64)
    assert encoder(x).shape == (2, 256) and decoder(torch.randn(2, 10)).shape == (2, 1, 1, 64, 64)
    layers = [m for m in [*encoder.modules(), *decoder.modules()] if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    assert all(torch.count_nonzero(layer.bias) == 0 for layer in layers)  # TensorFlow's zero biases


def test_kim_and_mnihs_network_is_dlib_conv_with_4x4_kernels_and_dense_128():
    encoder, decoder = TRUNKS.get("dlib_conv")((1, 64, 64), 10, 2, kernels=(4, 4, 4, 4), dense=128)
    convs = [m for m in encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.kernel_size for c in convs] == [(4, 4)] * 4 and [c.out_channels for c in convs] == [32, 32, 64, 64]
    assert encoder(torch.rand(3, 1, 64, 64)).shape == (3, 128)
    assert decoder(torch.randn(3, 10)).shape == (3, 2, 1, 64, 64)  # two parameters per pixel


def test_chen_mlp_has_their_layers_and_a_tanh_decoder():
    encoder, decoder = TRUNKS.get("chen_mlp")((1, 64, 64), 10, 1)
    assert count(encoder) == (4096 * 1200 + 1200) + (1200 * 1200 + 1200)  # fc1, fc2 (fc3 is vaekit's head)
    assert count(decoder) == (10 * 1200 + 1200) + 2 * (1200 * 1200 + 1200) + (1200 * 4096 + 4096)
    assert sum(isinstance(m, torch.nn.Tanh) for m in decoder.modules()) == 3
    assert sum(isinstance(m, torch.nn.ReLU) for m in encoder.modules()) == 2


@pytest.mark.parametrize("shape, options, fragment", [
    ((1, 32, 32), {}, "takes images C x 64 x 64"),
    ((4096,), {}, "takes images C x 64 x 64"),
    ((1, 64, 64), {"kernels": (4, 4, 3, 2)}, "four sizes, each 2 or 4"),
    ((1, 64, 64), {"dense": 0}, "model.trunk.dense must be at least 1"),
])
def test_dlib_conv_refuses_what_it_cannot_take(shape, options, fragment):
    with pytest.raises(UserError, match=fragment):
        TRUNKS.get("dlib_conv")(shape, 10, 1, **options)


@pytest.mark.parametrize("trunk, shape", [({"name": "dlib_conv", "dense": 16}, (1, 64, 64)),
                                          ({"name": "chen_mlp", "hidden": [16], "decoder_hidden": [8, 8]}, (1, 8, 8))])
def test_a_vae_on_each_trunk_trains_and_round_trips(trunk, shape, tmp_path):
    config = Config().replace(model={"latent_dim": 3, "trunk": trunk, "likelihood": {"name": "bernoulli"}})
    torch.manual_seed(0)
    model = build_model(config.model, shape)
    x = (torch.rand(4, *shape) < 0.3).float()
    output = ELBO()(model, Batch(x))
    output.loss.backward()
    assert torch.isfinite(output.loss) and output.terms["elbo"].shape == (4,)
    assert all(p.grad is not None and p.grad.abs().max() > 0 for p in model.parameters())
    save_model(tmp_path / "model.safetensors", model, config)
    loaded, _, _ = load_model(tmp_path / "model.safetensors")
    model.eval()
    assert torch.equal(loaded.encode(x).mean, model.encode(x).mean)
    assert torch.equal(loaded.decode(loaded.encode(x).mean).mean, model.decode(model.encode(x).mean).mean)
