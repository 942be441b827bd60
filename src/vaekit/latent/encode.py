"""Using a trained model's latent space: encode, sample, interpolate, traverse, denoise, map.

Every function takes model inputs (the values the model was trained on: binarised, scaled or
standardised) and returns CPU tensors. Embeddings are posterior means, never samples. Nothing
here prints or touches the global random state: the functions that draw are seeded through
``vaekit.seeding.seeded`` (or, for ``sample_latents`` and ``add_noise``, draw from whatever state
the caller set up, so that they compose inside a caller's seeded section).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.distributions import Normal

from .data.array import ArrayData
from .errors import UserError
from .evaluate import batches, eval_mode
from .likelihoods import Bernoulli
from .objectives import kl_per_dimension
from .registry import Registry
from .seeding import seeded

ENCODE_BATCH = 1024  # examples per encoder pass; the encoder alone is cheap, so batches can be large
PARALLEL = 1e-7  # sin(angle) below which two latents count as (anti)parallel and slerp falls back to linear

PATHS: Registry = Registry("interpolation")


def _parameter(model) -> torch.Tensor:
    """A parameter of the model: the device and dtype its inputs must have."""
    return next(model.parameters())


def as_batch(model, x: torch.Tensor) -> torch.Tensor:
    """One example (*data_shape) or a batch (B, *data_shape) -> a batch on the model's device and dtype."""
    parameter = _parameter(model)
    x = torch.as_tensor(x).to(device=parameter.device, dtype=parameter.dtype)
    if tuple(x.shape) == model.data_shape:
        x = x.unsqueeze(0)
    if tuple(x.shape[1:]) != model.data_shape:
        raise UserError(f"inputs of shape {tuple(x.shape)} do not fit this model's examples of shape {model.data_shape}")
    return x


@torch.no_grad()
def posterior_mean(model, x: torch.Tensor) -> torch.Tensor:
    """The embedding (B, D): the mean of q(z|x) for x (B, *data_shape) or one example (*data_shape)."""
    with eval_mode(model):
        return model.encode(as_batch(model, x)).mean


@torch.no_grad()
def decode_mean(model, z: torch.Tensor) -> torch.Tensor:
    """The mean of p(x|z): z (*lead, D) -> (*lead, *data_shape) on the model's device."""
    parameter = _parameter(model)
    with eval_mode(model):
        return model.decode(z.to(device=parameter.device, dtype=parameter.dtype)).mean


# --- encode ---------------------------------------------------------------------------------------


@torch.no_grad()
def encode_data(model, data: ArrayData, batch_size: int = ENCODE_BATCH) -> dict[str, torch.Tensor]:
    """The posterior of every example of ``data`` (in data order), as CPU tensors.

    mean (N, D) float32: the mean of q(z|x), the embedding to use downstream (not a sample, so
    two calls give identical values). log_var (N, D) float32: the log of q's variance per
    dimension; for a point-mass posterior (model 'ae') the variance is 0 and log_var is -inf, so
    that every model gives the same keys and exp(log_var) is still the variance. labels (N,)
    int64: only when the data have labels.
    """
    if len(data) == 0:
        raise UserError(f"{data.name}: no examples to encode")
    if batch_size < 1:
        raise UserError(f"batch_size must be at least 1, got {batch_size}")
    means, log_vars = [], []
    with eval_mode(model):
        for x in batches(data, batch_size, _parameter(model)):
            q = model.encode(x)  # batch (B,), event (D,)
            means.append(q.mean.float().cpu())
            log_vars.append(q.variance.log().float().cpu())  # log 0 = -inf for a point mass
    encoded = {"mean": torch.cat(means), "log_var": torch.cat(log_vars)}
    labels = getattr(data, "labels", None)
    if labels is not None:
        encoded["labels"] = labels.cpu()
    return encoded


# --- sample ---------------------------------------------------------------------------------------


@torch.no_grad()
def sample_latents(model, n: int, temperature: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(z (n, D), decoded means (n, *data_shape)) for n draws z ~ p(z) with its scale times ``temperature``.

    The same draws as ``model.sample`` from the same random state; the caller seeds (``seeded``).
    """
    if n < 1:
        raise UserError(f"the number of samples must be at least 1, got {n}")
    if temperature < 0:
        raise UserError(f"temperature must be >= 0, got {temperature}")
    model.prior_distribution()  # a plain autoencoder fails here with its explanation
    z = model.prior.sample(n, temperature)
    return z.cpu(), decode_mean(model, z).cpu()


# --- interpolate ----------------------------------------------------------------------------------


@PATHS.register("linear")
def lerp(z_a: torch.Tensor, z_b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(T, D): (1 - t) z_a + t z_b for z_a, z_b (D,) and t (T,); exactly z_a at t = 0 and z_b at t = 1."""
    t = t.to(z_a)[:, None]  # (T, 1)
    return (1 - t) * z_a + t * z_b


@PATHS.register("slerp")
def slerp(z_a: torch.Tensor, z_b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """(T, D): spherical interpolation (Shoemake, 1985; White, 2016) for z_a, z_b (D,), t (T,).

        slerp(t) = sin((1 - t) W) / sin W * z_a + sin(t W) / sin W * z_b,   W = angle(z_a, z_b)

    Endpoints of equal norm r stay on the sphere of radius r and the angle from z_a grows as t W;
    in general |slerp(t)|^2 = (s_a^2 |z_a|^2 + s_b^2 |z_b|^2 + 2 s_a s_b z_a.z_b) with s_a, s_b
    the two coefficients. Exactly z_a at t = 0 and z_b at t = 1. W comes from the unit vectors
    as 2 atan2(|u_a - u_b|, |u_a + u_b|), accurate near 0 and pi (acos of the dot product is
    not). Where sin W < 1e-7 (near-parallel or near-opposite latents, or a zero vector) the great
    circle is undefined or the formula divides ~0 by ~0, so the path falls back to linear, which
    near W = 0 agrees with slerp to O(W^2).
    """
    a, b = z_a.double(), z_b.double()
    norm_a, norm_b = a.norm(), b.norm()
    if norm_a == 0 or norm_b == 0:
        return lerp(z_a, z_b, t)
    u_a, u_b = a / norm_a, b / norm_b
    angle = 2 * torch.atan2((u_a - u_b).norm(), (u_a + u_b).norm())
    sin_angle = torch.sin(angle)
    if sin_angle < PARALLEL:
        return lerp(z_a, z_b, t)
    t = t.double()[:, None]  # (T, 1)
    s_a = torch.sin((1 - t) * angle) / sin_angle  # exactly 1 at t = 0, 0 at t = 1
    s_b = torch.sin(t * angle) / sin_angle
    return (s_a * a + s_b * b).to(z_a.dtype)


def interpolate(
    model, x_a: torch.Tensor, x_b: torch.Tensor, steps: int = 10, method: str = "linear"
) -> tuple[torch.Tensor, torch.Tensor]:
    """The path between two inputs (each (*data_shape) or (1, *data_shape)) in latent space.

    Returns z (steps, D), from the posterior mean of x_a (t = 0) to that of x_b (t = 1) at
    t = linspace(0, 1, steps), and the decoded means (steps, *data_shape), so the first and last
    decoded rows are the reconstructions of x_a and x_b. method: 'linear' or 'slerp'.
    """
    if steps < 2:
        raise UserError(f"steps must be at least 2 (the two endpoints), got {steps}")
    path = PATHS.get(method)
    ends = posterior_mean(model, torch.cat([as_batch(model, x_a), as_batch(model, x_b)]))  # (2, D)
    if len(ends) != 2:
        raise UserError(f"interpolate takes one example at each end, got {len(ends)} in all")
    z = path(ends[0], ends[1], torch.linspace(0, 1, steps, device=ends.device))  # (steps, D)
    return z.cpu(), decode_mean(model, z).cpu()


# --- traverse -------------------------------------------------------------------------------------


@dataclass
class Traversal:
    """One row per swept latent dimension, rows ordered by KL (largest first).

    dims (K,) int64: the swept dimension of each row. kl (K,) float64: its mean KL in nats (NaN
    when no KL was given). values (steps,): what the swept coordinate takes along each row.
    z (K, steps, D): the latents, equal to the base point except in the row's dimension.
    decoded (K, steps, *data_shape): the decoded means.
    """

    dims: torch.Tensor
    kl: torch.Tensor
    values: torch.Tensor
    z: torch.Tensor
    decoded: torch.Tensor


@torch.no_grad()
def mean_kl_per_dimension(model, data: ArrayData, batch_size: int = ENCODE_BATCH) -> torch.Tensor:
    """(D,) float64, nats: the mean over ``data`` of KL(q(z_d|x) || p(z_d)) per latent dimension.

    Closed form per dimension (``kl_per_dimension``); a dimension near 0 is inactive (unused).
    """
    prior = model.prior_distribution()  # a plain autoencoder fails here with its explanation
    if len(data) == 0:
        raise UserError(f"{data.name}: no examples to measure the KL on")
    total = torch.zeros(prior.event_shape, dtype=torch.float64, device=_parameter(model).device)
    with eval_mode(model):
        for x in batches(data, batch_size, _parameter(model)):
            total += kl_per_dimension(model.encode(x), prior).double().sum(0)  # (B, D) -> (D,)
    return (total / len(data)).cpu()


def traverse(
    model, x: torch.Tensor, kl: torch.Tensor | None = None, top: int | None = None, span: float = 3.0, steps: int = 9
) -> Traversal:
    """Decode while sweeping one latent coordinate at a time around the posterior mean of x.

    x: one example (*data_shape). kl (D,) nats (see ``mean_kl_per_dimension``): rows are ordered
    by it, largest first, and ``top`` keeps the K largest; None keeps dimension order (and needs
    top=None). In each row the swept coordinate takes the values linspace(-span, span, steps)
    (units of z: prior standard deviations for the standard normal prior); every other
    coordinate stays at the posterior mean of x.
    """
    if steps < 2 or not span > 0:
        raise UserError(f"a traversal needs steps >= 2 and span > 0, got steps={steps}, span={span}")
    base = posterior_mean(model, x)[0].cpu()  # (D,)
    dims = order_dimensions(kl, base.numel(), top)  # (K,)
    values = torch.linspace(-span, span, steps, dtype=base.dtype)  # (steps,)
    z = base.repeat(len(dims), steps, 1)  # (K, steps, D)
    z[torch.arange(len(dims)), :, dims] = values  # row k sweeps dimension dims[k]
    decoded = decode_mean(model, z).cpu()  # (K, steps, *data_shape)
    chosen_kl = torch.full((len(dims),), math.nan, dtype=torch.float64) if kl is None else kl.double()[dims]
    return Traversal(dims, chosen_kl, values, z, decoded)


def order_dimensions(kl: torch.Tensor | None, latent_dim: int, top: int | None) -> torch.Tensor:
    """(K,) int64: dimensions by decreasing KL (ties in index order), the ``top`` first; or 0..D-1."""
    if top is not None and not 1 <= top <= latent_dim:
        raise UserError(f"top must be between 1 and the latent dimension {latent_dim}, got {top}")
    if kl is None:
        if top is not None:
            raise UserError("choosing the top dimensions needs their KL, and a model without a prior has none")
        return torch.arange(latent_dim)
    if kl.shape != (latent_dim,):
        raise UserError(f"kl must have one value per latent dimension ({latent_dim}), got shape {tuple(kl.shape)}")
    order = torch.sort(kl.cpu(), descending=True, stable=True).indices
    return order[:top]


# --- denoise --------------------------------------------------------------------------------------


def add_noise(x: torch.Tensor, level: float, binary: bool, clip: tuple[float, float] | None = None) -> torch.Tensor:
    """Corrupted copy of x (B, *shape), drawn from the current random state.

    binary: x in {0, 1}; each element flips with probability ``level``, so the result stays binary.
    Otherwise x + level * N(0, 1) noise (level is the standard deviation, in input units),
    clamped to ``clip`` = (low, high) when given, which keeps it in a bounded support.
    """
    if binary:
        if not 0 <= level <= 1:
            raise UserError(f"the flip probability must be in [0, 1], got {level}")
        flips = torch.rand_like(x) < level
        return torch.where(flips, 1 - x, x)
    if level < 0:
        raise UserError(f"the noise standard deviation must be >= 0, got {level}")
    noisy = x + level * torch.randn_like(x)
    return noisy if clip is None else noisy.clamp(*clip)


def noise_clip(x: torch.Tensor) -> tuple[float, float] | None:
    """(0, 1) when every input lies in [0, 1] (images, grey levels, continuous Bernoulli data), else
    None: real-valued inputs (standardised tables) are left unclipped, their support being all reals."""
    return (0.0, 1.0) if bool(((x >= 0) & (x <= 1)).all()) else None


def denoise(model, x: torch.Tensor, level: float, seed: int = 0) -> dict[str, torch.Tensor]:
    """Reconstruct corrupted inputs: clean, noisy and reconstruction, each (B, *data_shape), CPU.

    The noise suits the likelihood, so that noisy inputs stay in its support: a Bernoulli model
    (binary data) gets each element flipped with probability ``level``; other models get
    Gaussian noise of standard deviation ``level``, clipped to [0, 1] for inputs in [0, 1]
    (see ``noise_clip``). The reconstruction is the mean of p(x | z = mean of q(z|noisy)).
    Seeded: the same seed gives the same noise; the global random state is untouched.
    """
    x = as_batch(model, x)
    if len(x) == 0:
        raise UserError("no inputs to denoise")
    binary = isinstance(model.likelihood, Bernoulli)
    if binary:
        model.likelihood.check_support(x, "bernoulli", "denoise inputs")
    with seeded(seed, x.device):
        noisy = add_noise(x, level, binary, noise_clip(x))
    reconstruction = decode_mean(model, posterior_mean(model, noisy))
    return {"clean": x.cpu(), "noisy": noisy.cpu(), "reconstruction": reconstruction.cpu()}


# --- latent map -----------------------------------------------------------------------------------


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
    if method == "pca":
        return _pca_map(means)
    return _tsne_map(means, max_points, seed)


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
