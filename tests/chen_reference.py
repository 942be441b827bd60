"""A port of Chen et al.'s MIG estimator (rtqichen/beta-tcvae: ``disentanglement_metrics.py``'s
``estimate_entropies`` and ``mutual_info_metric_shapes``, ``metric_helpers/mi_metric.py``'s
``compute_metric_shapes``, ``lib/dist.py``'s Normal log-density), kept in its own shape as the oracle
for ``vaekit.evaluation.disentanglement.chen``. Changes: CPU float64 instead of CUDA; the grid's sizes
are arguments (theirs hard-codes dSprites' 3 x 6 x 40 x 32 x 32); the codes are passed in, so both
sides use the same draw; the sample subset takes every sample (n_samples >= the subset's size), so
their randperm only reorders a sum.
"""

import math

import torch


def normal_log_density(sample, mu, logsigma):
    """lib/dist.py Normal.log_density."""
    c = torch.tensor([math.log(2 * math.pi)], dtype=sample.dtype)
    inv_sigma = torch.exp(-logsigma)
    tmp = (sample - mu) * inv_sigma
    return -0.5 * (tmp * tmp + 2 * logsigma + c)


def logsumexp(value, dim):
    m, _ = torch.max(value, dim=dim, keepdim=True)
    return m.squeeze(dim) + torch.log(torch.sum(torch.exp(value - m), dim=dim))


def estimate_entropies(qz_samples, qz_params):
    """qz_samples (K, S), qz_params (N, K, 2) as (mu, logsigma): E[-log q(z_j)] per dimension (K,)."""
    K, S = qz_samples.size()
    N = qz_params.size(0)
    weights = -math.log(N)
    entropies = torch.zeros(K, dtype=qz_samples.dtype)
    k = 0
    while k < S:
        batch_size = min(10, S - k)
        expanded = qz_params.view(N, K, 1, 2).expand(N, K, S, 2)[:, :, k:k + batch_size]
        logqz_i = normal_log_density(qz_samples.view(1, K, S).expand(N, K, S)[:, :, k:k + batch_size],
                                     expanded[..., 0], expanded[..., 1])
        k += batch_size
        entropies += -logsumexp(logqz_i + weights, dim=0).sum(1)
    entropies /= S
    return entropies


def mutual_info_metric_shapes(qz_samples, qz_params, grid):
    """qz_samples (N, K) and qz_params (N, K, 2) of a full-factorial grid (shape, scale, orientation,
    x, y) of sizes ``grid``, row-major: their MIG over scale, orientation, x, y."""
    N, K = qz_samples.shape
    qz_params = qz_params.view(*grid, K, 2)
    qz_samples = qz_samples.view(*grid, K)
    marginal_entropies = estimate_entropies(qz_samples.view(N, K).transpose(0, 1), qz_params.view(N, K, 2))
    cond_entropies = torch.zeros(4, K, dtype=qz_samples.dtype)
    for factor in range(1, 5):  # scale, orientation, pos x, pos y: their four loops
        size = grid[factor]
        for i in range(size):
            samples_i = qz_samples.select(factor, i).contiguous()
            params_i = qz_params.select(factor, i).contiguous()
            cond_entropies[factor - 1] += estimate_entropies(
                samples_i.view(N // size, K).transpose(0, 1), params_i.view(N // size, K, 2)) / size
    return compute_metric_shapes(marginal_entropies, cond_entropies, grid[1:])


def compute_metric_shapes(marginal_entropies, cond_entropies, factor_entropies):
    mutual_infos = marginal_entropies[None] - cond_entropies
    mutual_infos = torch.sort(mutual_infos, dim=1, descending=True)[0].clamp(min=0)
    mi_normed = mutual_infos / torch.tensor(factor_entropies, dtype=mutual_infos.dtype).log()[:, None]
    return float(torch.mean(mi_normed[:, 0] - mi_normed[:, 1]))
