"""vaekit.latent.denoise: the noise has the requested rate or spread and stays in range; denoising
reconstructs the noisy test inputs."""

import pytest
import torch

from vaekit import UserError
from vaekit.latent import add_noise, denoise, noise_clip
from vaekit.seeding import seeded


def test_bit_flips_keep_binary_inputs_binary_at_the_requested_rate():
    with seeded(0, "cpu"):
        x = (torch.rand(400, 1, 16, 16) < 0.3).float()
        noisy = add_noise(x, 0.2, binary=True)
    assert bool(((noisy == 0) | (noisy == 1)).all())
    assert (noisy != x).float().mean().item() == pytest.approx(0.2, abs=0.005)  # 102,400 flips of p = 0.2


def test_gaussian_noise_has_the_requested_std_and_is_clipped_to_the_unit_interval():
    x = torch.full((200, 1, 16, 16), 0.5)
    assert noise_clip(x) == (0.0, 1.0)
    with seeded(0, "cpu"):
        small = add_noise(x, 0.1, binary=False, clip=noise_clip(x))  # 5 std from the bounds: no clipping
        large = add_noise(x, 1.0, binary=False, clip=noise_clip(x))
    assert (small - x).std().item() == pytest.approx(0.1, rel=0.02)
    assert (small - x).mean().item() == pytest.approx(0.0, abs=0.002)
    assert large.min() == 0 and large.max() == 1  # clipped at both ends, not beyond
    table = torch.randn(500, 7) * 3  # standardised real values: no clipping
    assert noise_clip(table) is None
    with seeded(1, "cpu"):
        noisy = add_noise(table, 0.5, binary=False, clip=noise_clip(table))
    assert (noisy - table).std().item() == pytest.approx(0.5, rel=0.03)


def test_denoise_flips_binary_test_inputs_and_reconstructs_the_noisy_ones(opened):
    x = opened.data.inputs()  # the test split, binarized once
    state = torch.get_rng_state()
    result = denoise(opened.model, x, 0.15, seed=4)
    assert torch.equal(torch.get_rng_state(), state)  # the global random state is untouched
    assert torch.equal(result["clean"], x)
    noisy = result["noisy"]
    assert bool(((noisy == 0) | (noisy == 1)).all())  # in the Bernoulli likelihood's support
    assert (noisy != x).float().mean().item() == pytest.approx(0.15, abs=0.01)
    torch.testing.assert_close(result["reconstruction"], opened.model.reconstruct(noisy), rtol=0, atol=1e-6)
    assert torch.equal(denoise(opened.model, x, 0.15, seed=4)["noisy"], noisy)
    assert not torch.equal(denoise(opened.model, x, 0.15, seed=5)["noisy"], noisy)


def test_noise_levels_out_of_range_are_user_errors():
    x = torch.zeros(2, 3)
    with pytest.raises(UserError, match="flip probability must be in"):
        add_noise(x, 1.5, binary=True)
    with pytest.raises(UserError, match="standard deviation must be >= 0"):
        add_noise(x, -0.1, binary=False)
