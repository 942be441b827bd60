"""Latent-space diagnostics of a trained model: KL per latent dimension, active units, and how
well the model reconstructs its inputs.

Active units (Burda et al., 2016): latent dimension d is active when the posterior mean moves
with the input, Var_x(E_q[z_d | x]) > 0.01. A collapsed dimension has q(z_d|x) = p(z_d) for
every x, so its mean is constant and its KL is zero.
"""

from __future__ import annotations

import math

import torch

from ..data.array import ArrayData
from ..errors import UserError
from ..data.batch import Batch, split_batches
from ..models.conditional import label_prior, model_labels
from ..nn.modes import eval_mode
from ..objectives import kl_per_dimension
from ..seeding import seeded
from .likelihood import default_batch_size, memory_factor
from .metrics import Metric, register_metric

ACTIVE_UNIT_THRESHOLD = 0.01  # Burda et al. (2016), on Var_x of the posterior mean


class RunningMoments:
    """Mean and population variance per column of batches (B, D), merged in float64 (Chan et al.).

    Holds three (D,) tensors whatever the number of examples; merging batch moments instead of
    summing squares keeps the variance exact when it is small beside the squared mean.
    """

    def __init__(self):
        self.count = 0
        self.mean: torch.Tensor | float = 0.0
        self.m2: torch.Tensor | float = 0.0  # sum of squared deviations from the mean

    def add(self, values: torch.Tensor) -> None:
        values = values.double()  # (B, D)
        n = len(values)
        batch_mean = values.mean(0)  # (D,)
        batch_m2 = ((values - batch_mean) ** 2).sum(0)  # (D,)
        total = self.count + n
        delta = batch_mean - self.mean
        self.mean = self.mean + delta * (n / total)
        self.m2 = self.m2 + batch_m2 + delta**2 * (self.count * n / total)
        self.count = total

    def variance(self) -> torch.Tensor:
        """(D,) float64: the population variance, sum of squared deviations / N."""
        return self.m2 / self.count


def latent_diagnostics(model, data: ArrayData, batch_size: int | None = None, seed: int = 0) -> dict:
    """Latent-space numbers of ``model`` over ``data``, one batched pass without gradients.

    Returns a flat JSON-ready dict:

    - ``posterior_mean_variance``: D floats, Var_x(E_q[z_d|x]) over the examples (population
      variance, squared latent units). For an autoencoder (no prior) E_q[z|x] is the point
      encoding z(x), so these and the active units describe the point encodings.
    - ``active_units``: how many of them exceed ``active_unit_threshold`` (0.01).
    - ``kl_per_dim_nats`` (models with a prior whose KL factorises over dimensions in closed
      form): D floats, the mean over the examples of KL(q(z_d|x) || p(z_d)) in nats. They sum to
      the mean total KL (the ELBO's ``kl``). Left out for an autoencoder, which has no KL.
    - ``reconstruction_mse``: the mean over examples and data dimensions of
      (x - reconstruct(x))^2, in model space (the inputs as the model sees them, e.g. binarised).
    - ``psnr_db`` (images only): 10 log10(peak^2 / reconstruction_mse), one number for the data
      set computed from the data set's MSE (not a mean of per-image PSNRs). peak = 1 when every
      input lies in [0, 1], else the inputs' range max(x) - min(x).

    Nothing here draws random numbers for the built-in parts; the pass is seeded anyway so that a
    stochastic layer cannot make it irreproducible, and the caller's random state is untouched.
    """
    if len(data) == 0:
        raise UserError(f"{data.name}: no examples for latent diagnostics")
    batch_size = batch_size or default_batch_size(data.shape, len(data), memory_factor(model))
    parameter = next(model.parameters())
    sums = PassSums()
    with torch.no_grad(), seeded(seed, parameter.device), eval_mode(model):
        prior = None if model.prior is None or label_prior(model) else model.prior_distribution()
        for batch in split_batches(data, batch_size, parameter, model_labels(model, data)):  # x (B, *data_shape)
            sums.add(model, batch, model.prior_distribution(batch.labels) if label_prior(model) else prior)
    return sums.report(model.prior is not None, data)


class PassSums:
    """What ``latent_diagnostics`` gathers batch by batch, kept on the model's device until the end
    (no host-device sync per batch)."""

    def __init__(self):
        self.moments = RunningMoments()  # of the posterior means
        self.kl_sums: list[torch.Tensor] | None = []  # (D,) per batch, float64; None once the KL does not factorise
        self.squared_errors: list[torch.Tensor] = []  # () per batch, float64
        self.ranges: list[torch.Tensor] = []  # (2,) per batch: min and max of the inputs, for the PSNR peak

    def add(self, model, batch: Batch, prior) -> None:
        """One batch (x (B, *data_shape), labels for a conditional model); ``prior`` is p(z) (p(z|y) of
        the batch's labels), or None for an autoencoder."""
        x = batch.x
        q = model.encode(x, batch.labels)  # batch (B,), event (D,)
        self.moments.add(q.mean)  # (B, D)
        kl = None if prior is None or self.kl_sums is None else dimension_kl(q, prior)  # (B, D)
        self.kl_sums = None if kl is None else self.kl_sums + [kl.double().sum(0)]
        x_hat = model.decode(q.mean, batch.labels).mean  # model.reconstruct(x), without encoding x twice
        self.squared_errors.append(((x - x_hat).double() ** 2).sum())
        self.ranges.append(torch.stack([x.min(), x.max()]).double())

    def report(self, has_prior: bool, data: ArrayData) -> dict:
        """The dict ``latent_diagnostics`` returns, for the ``len(data)`` examples added."""
        variance = self.moments.variance().cpu()  # (D,)
        result = {
            "active_units": int((variance > ACTIVE_UNIT_THRESHOLD).sum()),
            "active_unit_threshold": ACTIVE_UNIT_THRESHOLD,
            "posterior_mean_variance": variance.tolist(),
        }
        if has_prior and self.kl_sums:
            result["kl_per_dim_nats"] = (torch.stack(self.kl_sums).sum(0) / len(data)).cpu().tolist()
        mse = float(torch.stack(self.squared_errors).sum()) / (len(data) * math.prod(data.shape))
        result["reconstruction_mse"] = mse
        if data.is_image:
            span = torch.stack(self.ranges).cpu()  # (batches, 2)
            result["psnr_db"] = psnr_db(mse, psnr_peak(float(span[:, 0].min()), float(span[:, 1].max())))
        return result


def dimension_kl(q, prior) -> torch.Tensor | None:
    """KL(q(z_d|x) || p(z_d)) (B, D) in closed form, or None for a prior that does not factorise
    over dimensions (a mixture, say), where a KL per dimension is not defined."""
    try:
        return kl_per_dimension(q, prior)
    except UserError:
        return None


def psnr_peak(low: float, high: float) -> float:
    """The signal peak for PSNR: 1 for inputs in [0, 1], else their range."""
    return 1.0 if 0.0 <= low and high <= 1.0 else high - low


def psnr_db(mse: float, peak: float = 1.0) -> float:
    """Peak signal-to-noise ratio in decibels, 10 log10(peak^2 / mse); inf for a perfect reconstruction."""
    return math.inf if mse == 0 else 10.0 * math.log10(peak**2 / mse)


# --- registered metrics (keys of ``latent_diagnostics``) -------------------------------------------

register_metric(Metric("active_units", "active units", "latent", order="higher_is_better", headline=True))
register_metric(Metric("active_unit_threshold", "active unit threshold (variance of the posterior mean)", "latent",
                       table=False))
register_metric(Metric("posterior_mean_variance", "variance of the posterior mean per dimension", "latent",
                       table=False))
register_metric(Metric("kl_per_dim_nats", "KL per latent dimension, nats", "latent", unit="nats", table=False))
register_metric(Metric("reconstruction_mse", "reconstruction mean squared error", "latent", order="lower_is_better"))
register_metric(Metric("psnr_db", "reconstruction PSNR, dB", "latent", unit="dB", order="higher_is_better"))
