"""Maps of the latent space: posterior means in two dimensions (the means, PCA or t-SNE), and the
decoded manifold of a 2-D latent space over the prior's quantiles."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.distributions import Normal

from ..errors import UserError
from .encode import decode_mean


@dataclass
class LatentMap:
    """Posterior means placed in 2-D.

    coords (M, 2) float64; index (M,) int64: the row of the encoded data each point shows;
    method: 'means' (the means themselves, latent_dim = 2), 'pca' or 'tsne'; axes: axis names.
    """

    coords: torch.Tensor
    index: torch.Tensor
    method: str
    axes: tuple[str, str]


MAP_METHODS = ("auto", "means", "pca", "tsne")


def latent_map(means: torch.Tensor, method: str = "auto", max_points: int = 2000, seed: int = 0) -> LatentMap:
    """Place posterior means (N, D) in 2-D.

    'auto': the means themselves when D = 2, else PCA. 'pca': scikit-learn's PCA (full SVD, so
    deterministic) over all N points. 'tsne': scikit-learn's t-SNE (random_state=seed, PCA
    initialisation) over at most ``max_points`` points drawn without replacement with ``seed``.
    Means that are all one point (a collapsed encoder; a VQ-VAE giving every example the same code
    grid) have no direction of variance to project on: PCA and t-SNE place them all at the origin.
    """
    if method not in MAP_METHODS:
        raise UserError(f"unknown latent map method {method!r}; known: {', '.join(MAP_METHODS)}")
    means = means.detach().double().cpu()
    n, latent_dim = means.shape
    if latent_dim < 2:
        raise UserError(f"a 2-D latent map needs latent_dim >= 2, this model has {latent_dim}")
    if method == "auto":
        method = "means" if latent_dim == 2 else "pca"
    if method == "means":
        if latent_dim != 2:
            raise UserError(f"method 'means' plots the means directly and needs latent_dim = 2, not {latent_dim}")
        return LatentMap(means.clone(), torch.arange(n), "means", ("z0", "z1"))
    if _one_point(means):
        return _one_point_map(means, method, max_points)
    if method == "pca":
        return _pca_map(means)
    return _tsne_map(means, max_points, seed)


def _one_point(means: torch.Tensor) -> bool:
    """Whether every row of ``means`` (N, D) is the same vector (also for N <= 1)."""
    return bool((means == means[:1]).all())


def _one_point_map(means: torch.Tensor, method: str, max_points: int) -> LatentMap:
    """Every one of the N means at the origin (M = N, at most ``max_points`` for t-SNE). PCA's share of
    variance would be 0 / 0 and t-SNE's PCA start divides by a zero spread: scikit-learn's 'invalid
    value in divide' and NaN axes, so neither is asked."""
    index = torch.arange(len(means) if method == "pca" else min(len(means), max_points))
    axes = ("PC1 (no variance)", "PC2 (no variance)") if method == "pca" else ("t-SNE 1", "t-SNE 2")
    return LatentMap(torch.zeros(len(index), 2, dtype=torch.float64), index, method, axes)


def _pca_map(means: torch.Tensor) -> LatentMap:
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2, svd_solver="full")
    coords = torch.as_tensor(pca.fit_transform(means.numpy()))
    share = [f"PC{i + 1} ({100 * r:.0f}% of variance)" for i, r in enumerate(pca.explained_variance_ratio_)]
    return LatentMap(coords, torch.arange(len(means)), "pca", (share[0], share[1]))


def _tsne_map(means: torch.Tensor, max_points: int, seed: int) -> LatentMap:
    from sklearn.manifold import TSNE

    if max_points < 5:
        raise UserError(f"max_points must be at least 5 for t-SNE, got {max_points}")
    if len(means) < 5:
        raise UserError(f"t-SNE needs at least 5 points, got {len(means)}")
    generator = torch.Generator().manual_seed(seed)  # its own generator: the global state is untouched
    index = torch.randperm(len(means), generator=generator)[:max_points].sort().values
    perplexity = min(30.0, (len(index) - 1) / 3)  # t-SNE needs perplexity < number of points
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    coords = torch.as_tensor(tsne.fit_transform(means[index].numpy())).double()
    return LatentMap(coords, index, "tsne", ("t-SNE 1", "t-SNE 2"))


def prior_quantiles(n: int) -> torch.Tensor:
    """(n,) float32: Normal(0, 1).icdf at the evenly spaced probabilities (i + 0.5) / n, i = 0..n-1."""
    probabilities = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    return Normal(0.0, 1.0).icdf(probabilities).float()


def manifold_grid(model, n: int = 15) -> tuple[torch.Tensor, torch.Tensor]:
    """The decoded manifold of a 2-D latent space over the prior's quantiles.

    Returns z (n, n, 2) and decoded means (n, n, *data_shape). With q = ``prior_quantiles(n)``,
    z[r, c] = (q[c], q[n - 1 - r]): z1 grows to the right and z2 upwards, as in a scatter plot.
    """
    latent_dim = model.prior_distribution().event_shape[0]  # a plain autoencoder fails here: no prior
    if latent_dim != 2:
        raise UserError(f"the manifold grid needs latent_dim = 2, this model has {latent_dim}")
    if n < 2:
        raise UserError(f"the manifold grid needs n >= 2 points per axis, got {n}")
    q = prior_quantiles(n)
    z = torch.stack(torch.meshgrid(q, q.flip(0), indexing="xy"), dim=-1)  # (n, n, 2): [r, c] = (q[c], q[n-1-r])
    return z, decode_mean(model, z).cpu()
