"""vaekit.latent.maps on small trained runs: the means in 2-D, PCA or a seeded t-SNE otherwise, and the
manifold grid at the standard normal quantiles."""

import numpy as np
import pytest
import torch
from helpers import small_vqvae, train_small_run
from scipy.stats import norm
from sklearn.decomposition import PCA

from vaekit import UserError
from vaekit.config import DataConfig
from vaekit.data import load_data
from vaekit.latent import decode_mean, encode_data, latent_map, manifold_grid
from vaekit.runs.open import open_run


@pytest.fixture(scope="module")
def opened_2d(tmp_path_factory):
    return open_run(train_small_run(tmp_path_factory, "latent2", latent_dim=2), "cpu")


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


@pytest.mark.filterwarnings("error")  # scikit-learn's "invalid value encountered in divide" fails the test
@pytest.mark.parametrize("method", ["auto", "pca", "tsne"])
def test_means_that_are_all_one_point_sit_at_the_origin_without_a_warning(method):
    means = torch.full((30, 6), 0.7)
    with pytest.warns(RuntimeWarning, match="invalid value"):  # the cause: asked, PCA divides 0 by 0
        PCA(n_components=2, svd_solver="full").fit(means.double().numpy())
    placed = latent_map(means, method, max_points=20)
    assert placed.method == ("pca" if method == "auto" else method)
    assert len(placed.index) == (20 if method == "tsne" else 30)
    assert torch.equal(placed.coords, torch.zeros(len(placed.index), 2, dtype=torch.float64))
    assert "nan" not in " ".join(placed.axes)


@pytest.mark.filterwarnings("error")
def test_a_collapsed_vq_vae_maps_without_a_warning_and_one_moved_mean_gets_pca_again():
    model = small_vqvae(trunk="mlp", codebook_size=1)  # one code: every example has the same grid
    means = encode_data(model, load_data("digits", DataConfig()).test)["mean"]
    assert torch.equal(latent_map(means).coords, torch.zeros(len(means), 2, dtype=torch.float64))
    means[0] += 1.0  # one mean apart: the map is PCA's again, with its share of the variance
    placed = latent_map(means)
    expected = PCA(n_components=2, svd_solver="full").fit_transform(means.double().numpy())
    np.testing.assert_allclose(placed.coords.numpy(), expected, atol=1e-9)
    assert placed.axes[0] == "PC1 (100% of variance)"
