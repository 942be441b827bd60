"""Chen et al.'s (2018) MIG, ``mig_chen``: their estimator exactly (``disentanglement_metrics.py`` and
``metric_helpers/mi_metric.py`` of rtqichen/beta-tcvae), beside disentanglement_lib's ``mig``.

Where ``mig`` bins the posterior means, this one works with the posteriors themselves. One code
z_n ~ q(z|x_n) is drawn for every example of the data set, and with the aggregate posterior of a set
of examples, q(z_j) = (1/N) sum_n q(z_j | x_n), each entropy is a Monte Carlo average over (up to)
``num_samples`` of those codes:

    H(z_j)         = -E log q(z_j)                    (the whole data set)
    H(z_j | v_k=a) = -E log q(z_j | v_k = a)          (the examples with factor k at value a)
    I(z_j; v_k)    = H(z_j) - sum_a p(a) H(z_j | v_k = a)

MI is clamped at 0, each factor's two largest are taken, and the gap is normalised by log L_k (the
entropy of a uniform factor of L_k values): MIG = mean_k (I_1 - I_2) / log L_k. Their factor set on
dSprites leaves out shape (scale, orientation, x, y); the factors named in ``LEFT_OUT`` are left out
here too. Their code weights each value by 1 / L_k (the full grid); p(a) here is the value's share of
the data, which is 1 / L_k on a full-factorial set, so the numbers agree there.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ...data.array import ArrayData
from ...errors import UserError
from ...latent.encode import ENCODE_BATCH, first_parameter
from ...models.heads import GaussianHead
from ...models.model import LatentVariableModel
from ...nn.modes import eval_mode
from ..metrics import Metric, register_metric
from .sample import FactorSample

NUM_SAMPLES = 10000  # their estimate_entropies' n_samples
LEFT_OUT = ("shape",)  # their dSprites factor set leaves shape out (metric_helpers/mi_metric.py)
CHUNK_ELEMENTS = 2**23  # (samples, N, D) log-densities held at once


def aggregate_entropies(z: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """(D,) nats: -mean_s log q(z_sj), q(z_j) = (1/N) sum_n N(z_j; mean_nj, std_nj^2), for the
    samples z (S, D) and the N posteriors mean, std (N, D)."""
    n, dims = mean.shape
    total = torch.zeros(dims, dtype=mean.dtype, device=mean.device)
    step = max(1, CHUNK_ELEMENTS // (n * dims))
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    for start in range(0, len(z), step):
        chunk = z[start:start + step, None, :]  # (s, 1, D)
        log_density = -0.5 * ((chunk - mean) / std) ** 2 - std.log() - half_log_2pi  # (s, N, D)
        total -= (torch.logsumexp(log_density, 1) - math.log(n)).sum(0)
    return total / len(z)


def subset_entropies(z, mean, std, rows: np.ndarray, num_samples: int, rng: np.random.Generator) -> torch.Tensor:
    """(D,) entropies of the aggregate posterior of the examples ``rows``, from up to ``num_samples``
    of their codes chosen at random (their ``estimate_entropies``)."""
    chosen = rows[rng.permutation(len(rows))[:num_samples]]
    return aggregate_entropies(z[chosen], mean[rows], std[rows])


def chen_entropies(z: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, factors: np.ndarray,
                   num_samples: int = NUM_SAMPLES, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(marginal (D,), conditional (K, D)) entropies in nats, from one code per example z (N, D), the
    posteriors mean, std (N, D) and integer factors (N, K): H(z_j), and sum_a p(a) H(z_j | v_k = a).
    Subsets of samples are drawn from numpy's generator seeded with ``seed``."""
    rng = np.random.default_rng(seed)
    everything = np.arange(len(z))
    marginal = subset_entropies(z, mean, std, everything, num_samples, rng)
    conditional = torch.zeros(factors.shape[1], z.shape[1], dtype=mean.dtype, device=mean.device)
    for k in range(factors.shape[1]):
        for value in np.unique(factors[:, k]):
            rows = np.flatnonzero(factors[:, k] == value)
            conditional[k] += subset_entropies(z, mean, std, rows, num_samples, rng) * (len(rows) / len(z))
    return marginal, conditional


def mig_from_entropies(marginal: torch.Tensor, conditional: torch.Tensor, sizes) -> tuple[float, np.ndarray]:
    """(MIG, the (K, D) mutual information, nats) from H(z_j) (D,), H(z_j | v_k) (K, D) and the
    factors' numbers of values (K,): their ``compute_metric_shapes``."""
    information = (marginal[None] - conditional).clamp(min=0)  # (K, D)
    top = torch.sort(information, dim=1, descending=True)[0]
    normalised = top / torch.tensor(sizes, dtype=top.dtype, device=top.device).log()[:, None]
    return float((normalised[:, 0] - normalised[:, 1]).mean()), information.cpu().numpy()


def chosen_factors(names, sizes, left_out=LEFT_OUT) -> list[int]:
    """The indices of the factors MIG is averaged over: all but those named in ``left_out`` and
    those with a single value (nothing to inform about)."""
    return [k for k, (name, size) in enumerate(zip(names, sizes)) if name not in left_out and size > 1]


def mig_chen_of_posteriors(mean, std, factors, names, sizes, num_samples: int = NUM_SAMPLES, seed: int = 0,
                           left_out=LEFT_OUT) -> dict:
    """Chen et al.'s MIG (module docstring) from the posteriors q(z|x_n) = N(mean_n, diag std_n^2)
    (N, D) of every example, their integer factors (N, K), the factors' names and numbers of values.
    One code per example is drawn with a torch generator seeded with ``seed``. Returns mig_chen, the
    (K', D) mutual information of the factors used (mig_chen_information_nats), their names, and the
    settings."""
    mean, std = torch.as_tensor(mean), torch.as_tensor(std)
    factors = np.asarray(factors)
    if mean.ndim != 2 or mean.shape != std.shape or len(mean) != len(factors):
        raise UserError(f"mig_chen needs posterior means and standard deviations (N, D) and factors (N, K) with the "
                        f"same N, got {tuple(mean.shape)}, {tuple(std.shape)} and {factors.shape}")
    if mean.shape[1] < 2:
        raise UserError(f"mig_chen needs at least 2 code dimensions, got {mean.shape[1]}")
    used = chosen_factors(names, sizes, left_out)
    if not used:
        raise UserError(f"mig_chen: no factor left to score among {list(names)} (left out: {list(left_out)})")
    generator = torch.Generator(device=mean.device).manual_seed(seed)
    z = mean + std * torch.randn(mean.shape, generator=generator, dtype=mean.dtype, device=mean.device)
    marginal, conditional = chen_entropies(z, mean, std, factors[:, used], num_samples, seed)
    score, information = mig_from_entropies(marginal, conditional, [sizes[k] for k in used])
    return {"mig_chen": score, "mig_chen_information_nats": information.tolist(),
            "mig_chen_factors": [names[k] for k in used],
            "mig_chen_settings": {"num_samples": num_samples, "examples": len(mean), "left_out": list(left_out),
                                  "normalisation": "log of the number of values", "seed": seed}}


@torch.no_grad()
def posteriors(model, data: ArrayData, rows: np.ndarray, batch_size: int = ENCODE_BATCH) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, std) (n, D) float64 of q(z|x) for the examples ``rows``, on the model's device."""
    parameter = first_parameter(model)
    means, stds = [], []
    with eval_mode(model):
        for start in range(0, len(rows), batch_size):
            x = data.inputs(torch.from_numpy(rows[start:start + batch_size]))
            q = model.encode(x.to(device=parameter.device, dtype=parameter.dtype))
            means.append(q.mean.double())
            stds.append(q.stddev.double())
    return torch.cat(means), torch.cat(stds)


def mig_chen(model, data: ArrayData, num_examples: int = 0, num_samples: int = NUM_SAMPLES, seed: int = 0,
             left_out=LEFT_OUT) -> dict:
    """Chen et al.'s MIG of a model with a Gaussian posterior on ``data`` with factors: every example
    (``num_examples`` > 0: that many drawn at random, a cheaper estimate that is no longer theirs),
    ``num_samples`` (default 10,000) codes per entropy; see ``mig_chen_of_posteriors``."""
    if getattr(data, "factors", None) is None or data.factor_info is None:
        raise UserError(f"{data.name}: these data have no ground-truth factors; mig_chen needs them (use --data "
                        "dsprites or an .npz with 'factors' (N, K) integer codes beside 'x')")
    rows = np.arange(len(data))
    if 0 < num_examples < len(data):
        rows = np.sort(np.random.default_rng(seed).choice(len(data), num_examples, replace=False))
    mean, std = posteriors(model, data, rows)
    if not bool((std > 0).all()):
        raise UserError("mig_chen needs a posterior with a spread, q(z|x) = N(mean, std^2) with std > 0 (a 'vae'); "
                        "this model's codes are points")
    info = data.factor_info
    return mig_chen_of_posteriors(mean, std, data.factors[rows].numpy(), info.names, info.sizes, num_samples, seed,
                                  left_out)


def mig_chen_of(sample: FactorSample) -> dict:
    """mig_chen at the suite's settings (``settings['mig_chen']``); none for a representation given as
    a function or a model without a diagonal Gaussian posterior (no spread to sample), or for
    one-dimensional codes."""
    model = sample.represent.model
    if not (isinstance(model, LatentVariableModel) and isinstance(model.head, GaussianHead)) or sample.dims < 2:
        return {}
    settings = sample.settings["mig_chen"]
    return mig_chen(model, sample.data, settings["num_examples"], settings["num_samples"], sample.seed)


register_metric(Metric("mig_chen", "MIG (Chen et al.'s estimator)", "disentanglement", order="higher_is_better",
                       compute=mig_chen_of))
