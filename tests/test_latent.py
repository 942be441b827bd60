"""The latent tools' API (vaekit.latent) on small trained runs: each test checks a property that a
wrong implementation would break (exact endpoints, even spacing, norms, swept values, orders, rates)."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.stats import norm
from sklearn.decomposition import PCA

import vaekit
from vaekit import Config, ModelConfig, UserError, build_model
from vaekit.latent import (
    add_noise,
    decode_mean,
    denoise,
    encode_data,
    interpolate,
    latent_map,
    lerp,
    manifold_grid,
    mean_kl_per_dimension,
    noise_clip,
    order_dimensions,
    posterior_mean,
    sample_latents,
    slerp,
    traverse,
)
from vaekit.runs.open import open_run
from vaekit.seeding import seeded


def train_small_run(tmp_path_factory, name: str, latent_dim: int) -> Path:
    """The folder of a tiny MLP VAE trained for 3 epochs on digits (Bernoulli, dynamic binarisation)."""
    config = Config().replace(model={"hidden": [32], "latent_dim": latent_dim},
                              train={"epochs": 3, "batch_size": 64, "device": "cpu"})
    out = tmp_path_factory.mktemp(name) / "run"
    vaekit.train(config, out=out)
    return out


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    """The latent_dim = 4 run's model and test split (359 examples)."""
    return open_run(train_small_run(tmp_path_factory, "latent4", latent_dim=4), "cpu")


@pytest.fixture(scope="module")
def opened_2d(tmp_path_factory):
    return open_run(train_small_run(tmp_path_factory, "latent2", latent_dim=2), "cpu")


def angle(u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The angle (radians) between rows of u (T, D) and v (D,), float64."""
    u, v = u.double(), v.double()
    return torch.acos(((u @ v) / (u.norm(dim=-1) * v.norm())).clamp(-1, 1))


# --- interpolation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["linear", "slerp"])
def test_interpolation_endpoints_decode_to_the_reconstructions(opened, method):
    x = opened.data.inputs(slice(0, 2))
    z, decoded = interpolate(opened.model, x[0], x[1], steps=7, method=method)
    assert z.shape == (7, 4) and decoded.shape == (7, 1, 8, 8)
    means = opened.model.encode(x).mean
    assert torch.equal(z[0], means[0]) and torch.equal(z[-1], means[1])  # exact: the posterior means
    torch.testing.assert_close(decoded[[0, -1]], opened.model.reconstruct(x), rtol=0, atol=1e-6)


def test_linear_interpolation_is_evenly_spaced(opened):
    x = opened.data.inputs(slice(2, 4))
    z, _ = interpolate(opened.model, x[0], x[1], steps=11, method="linear")
    steps = z.diff(dim=0)  # (10, D)
    torch.testing.assert_close(steps, steps[:1].expand_as(steps), rtol=0, atol=1e-6)
    torch.testing.assert_close(steps.sum(0), z[-1] - z[0], rtol=0, atol=1e-6)


def test_slerp_between_equal_norms_stays_on_the_sphere_and_turns_uniformly():
    generator = torch.Generator().manual_seed(0)
    a, b = torch.randn(2, 6, generator=generator, dtype=torch.float64)
    a, b = 3 * a / a.norm(), 3 * b / b.norm()
    t = torch.linspace(0, 1, 9, dtype=torch.float64)
    path = slerp(a, b, t)
    torch.testing.assert_close(path.norm(dim=-1), torch.full((9,), 3.0, dtype=torch.float64))
    total = angle(b[None], a)[0]
    torch.testing.assert_close(angle(path, a), t * total, rtol=0, atol=1e-7)
    assert torch.equal(path[0], a) and torch.equal(path[-1], b)


def test_slerp_norm_profile_follows_the_formula_for_unequal_norms():
    a = torch.tensor([2.0, 0.0, 1.0, 0.0])
    b = torch.tensor([0.5, 1.5, -1.0, 0.3])
    t = torch.linspace(0, 1, 13)
    path = slerp(a, b, t)
    omega = math.acos(float(a @ b / (a.norm() * b.norm())))  # the textbook angle, as an independent oracle
    s_a = torch.sin((1 - t.double()) * omega) / math.sin(omega)
    s_b = torch.sin(t.double() * omega) / math.sin(omega)
    expected = (s_a**2 * a.norm() ** 2 + s_b**2 * b.norm() ** 2 + 2 * s_a * s_b * (a @ b)).sqrt()
    torch.testing.assert_close(path.norm(dim=-1).double(), expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(path, (s_a[:, None] * a + s_b[:, None] * b).float(), rtol=1e-5, atol=1e-6)
    # not the straight line: in the middle the norm exceeds the chord's
    assert path[6].norm() > lerp(a, b, t)[6].norm() + 0.1


@pytest.mark.parametrize("scale", [2.0, -1.0, 1.0 + 1e-9])
def test_slerp_of_parallel_latents_falls_back_to_linear(scale):
    a = torch.tensor([1.0, -2.0, 0.5])
    b = scale * a
    t = torch.linspace(0, 1, 5)
    path = slerp(a, b, t)
    assert torch.isfinite(path).all()
    torch.testing.assert_close(path, lerp(a, b, t))


def test_interpolation_rejects_unknown_methods_and_single_steps(opened):
    x = opened.data.inputs(slice(0, 2))
    with pytest.raises(UserError, match="unknown interpolation 'cubic'; known: linear, slerp"):
        interpolate(opened.model, x[0], x[1], 5, "cubic")
    with pytest.raises(UserError, match="steps must be at least 2"):
        interpolate(opened.model, x[0], x[1], 1)


# --- traversal -------------------------------------------------------------------------------------


def test_traversal_changes_only_the_swept_dimension_by_exactly_the_requested_values(opened):
    x = opened.data.inputs(slice(5, 6))[0]
    kl = mean_kl_per_dimension(opened.model, opened.data)
    result = traverse(opened.model, x, kl, span=2.5, steps=6)
    base = posterior_mean(opened.model, x)[0]
    expected_values = torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])
    assert result.z.shape == (4, 6, 4) and result.decoded.shape == (4, 6, 1, 8, 8)
    torch.testing.assert_close(result.values, expected_values, rtol=0, atol=1e-6)
    for row, dim in enumerate(result.dims.tolist()):
        assert torch.equal(result.z[row, :, dim], result.values)
        others = [d for d in range(4) if d != dim]
        assert torch.equal(result.z[row][:, others], base[others].expand(6, 3))
    assert sorted(result.dims.tolist()) == [0, 1, 2, 3]  # every dimension, once
    torch.testing.assert_close(result.decoded, decode_mean(opened.model, result.z), rtol=0, atol=1e-6)


def test_traversal_rows_are_ordered_by_the_mean_kl_per_dimension(opened):
    kl = mean_kl_per_dimension(opened.model, opened.data)
    # oracle: the closed-form Gaussian KL against N(0, 1), 0.5 (mu^2 + s^2 - 1 - log s^2), averaged by hand
    q = opened.model.encode(opened.data.inputs())
    mu, var = q.mean.double(), q.variance.double()
    torch.testing.assert_close(kl, (0.5 * (mu**2 + var - 1 - var.log())).mean(0), rtol=1e-5, atol=1e-6)
    x = opened.data.inputs(slice(0, 1))[0]
    result = traverse(opened.model, x, kl, top=2)
    assert result.dims.tolist() == torch.argsort(kl, descending=True)[:2].tolist()
    assert result.kl[0] >= result.kl[1] >= kl.sort(descending=True).values[2]
    torch.testing.assert_close(result.kl, kl[result.dims])


def test_dimension_order_breaks_ties_by_index_and_checks_top():
    kl = torch.tensor([0.5, 2.0, 0.5, 3.0])
    assert order_dimensions(kl, 4, None).tolist() == [3, 1, 0, 2]
    assert order_dimensions(None, 3, None).tolist() == [0, 1, 2]
    with pytest.raises(UserError, match="top must be between 1 and the latent dimension 4"):
        order_dimensions(kl, 4, 5)
    with pytest.raises(UserError, match="needs their KL"):
        order_dimensions(None, 4, 2)


# --- encode and sample -----------------------------------------------------------------------------


def test_encode_gives_the_posterior_mean_not_a_sample(opened):
    first = encode_data(opened.model, opened.data, batch_size=50)  # several batches
    second = encode_data(opened.model, opened.data, batch_size=50)
    n = len(opened.data)
    assert first["mean"].shape == first["log_var"].shape == (n, 4)
    assert torch.equal(first["mean"], second["mean"])  # no sampling: identical
    q = opened.model.encode(opened.data.inputs())
    torch.testing.assert_close(first["mean"], q.mean, rtol=0, atol=1e-6)  # batches may round differently
    assert not torch.allclose(q.rsample(), q.mean, atol=1e-3)  # a draw would differ by far more
    torch.testing.assert_close(first["log_var"], q.variance.log(), rtol=1e-5, atol=1e-5)
    assert torch.equal(first["labels"], opened.data.labels)


def test_encode_of_an_autoencoder_has_log_var_minus_infinity(opened):
    with seeded(0, "cpu"):
        model = build_model(ModelConfig(name="ae", hidden=(8,), latent_dim=3, likelihood="bernoulli"), (1, 8, 8))
    encoded = encode_data(model, opened.data)
    assert encoded["mean"].shape == (len(opened.data), 3)
    assert torch.isneginf(encoded["log_var"]).all()
    assert torch.isfinite(encoded["mean"]).all()


def test_sample_latents_are_the_draws_of_model_sample(opened):
    with seeded(3, "cpu"):
        expected = opened.model.sample(5, temperature=0.5)
    with seeded(3, "cpu"):
        z, samples = sample_latents(opened.model, 5, temperature=0.5)
    assert z.shape == (5, 4)
    assert torch.equal(samples, expected)
    torch.testing.assert_close(samples, decode_mean(opened.model, z))


# --- denoise ---------------------------------------------------------------------------------------


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
    x = opened.data.inputs()  # the test split, binarised once
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


# --- latent map and manifold -------------------------------------------------------------------------


def test_latent_map_uses_the_means_in_2d_and_pca_otherwise(opened, opened_2d):
    means_2d = encode_data(opened_2d.model, opened_2d.data)["mean"]
    placed = latent_map(means_2d)
    assert placed.method == "means"
    assert torch.equal(placed.coords, means_2d.double())
    means = encode_data(opened.model, opened.data)["mean"]
    placed = latent_map(means)
    assert placed.method == "pca" and placed.coords.shape == (len(means), 2)
    expected = PCA(n_components=2).fit_transform(means.double().numpy())
    np.testing.assert_allclose(placed.coords.numpy(), expected, atol=1e-9)
    assert torch.equal(placed.index, torch.arange(len(means)))


def test_tsne_map_is_seeded_and_uses_at_most_max_points(opened):
    means = encode_data(opened.model, opened.data)["mean"]
    first = latent_map(means, "tsne", max_points=60, seed=1)
    assert first.coords.shape == (60, 2) and first.index.shape == (60,)
    assert len(set(first.index.tolist())) == 60 and first.index.max() < len(means)
    again = latent_map(means, "tsne", max_points=60, seed=1)
    assert torch.equal(first.index, again.index) and torch.allclose(first.coords, again.coords)


def test_manifold_grid_decodes_the_standard_normal_quantiles(opened_2d):
    z, decoded = manifold_grid(opened_2d.model, n=5)
    q = torch.tensor(norm.ppf((np.arange(5) + 0.5) / 5), dtype=torch.float32)  # scipy as the oracle
    assert z.shape == (5, 5, 2) and decoded.shape == (5, 5, 1, 8, 8)
    for r in range(5):
        for c in range(5):
            torch.testing.assert_close(z[r, c], torch.stack([q[c], q[4 - r]]))
    torch.testing.assert_close(decoded, decode_mean(opened_2d.model, z))


def test_manifold_grid_needs_a_2d_latent_space(opened):
    with pytest.raises(UserError, match="needs latent_dim = 2, this model has 4"):
        manifold_grid(opened.model)
