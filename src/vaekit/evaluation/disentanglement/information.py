"""Information-based disentanglement metrics: MIG, modularity, the Gaussian total correlation.

Definitions and defaults are disentanglement_lib's (Locatello et al., 2019), so the numbers compare
with the literature: each code dimension is discretised into 20 equal-width bins (``np.digitize``
against the ``np.histogram`` edges), and mutual information is scikit-learn's ``mutual_info_score``
between the binned code and the integer factor, in nats. codes: (N, D) float, the representation
(for a VAE the posterior mean); factors: (N, K) integer codes.
"""

from __future__ import annotations

import numpy as np

from ...errors import UserError
from ..metrics import Metric, register_metric
from .sample import FactorSample

NUM_BINS = 20


def as_codes_and_factors(codes, factors, need_dims: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(codes (N, D) float64, factors (N, K) int64), checked: same N, finite codes, integer factors."""
    codes = np.asarray(codes, dtype=np.float64)
    factors = np.asarray(factors)
    if codes.ndim != 2 or factors.ndim != 2:
        raise UserError(f"codes must be (N, D) and factors (N, K), got shapes {codes.shape} and {factors.shape}")
    if len(codes) != len(factors) or len(codes) < 2:
        raise UserError(f"codes and factors need the same number of rows (at least 2), got {len(codes)} and {len(factors)}")
    if codes.shape[1] < need_dims:
        raise UserError(f"this metric needs at least {need_dims} code dimensions, got {codes.shape[1]}")
    if not np.isfinite(codes).all():
        raise UserError("codes contain NaN or Inf values")
    if factors.dtype.kind not in "iu":
        raise UserError(f"factors must be integer codes, got {factors.dtype} values")
    return codes, factors.astype(np.int64)


def histogram_discretize(codes: np.ndarray, num_bins: int = NUM_BINS) -> np.ndarray:
    """(N, D) int: each column's bin 1..num_bins among num_bins equal-width bins over its range."""
    binned = np.zeros(codes.shape, dtype=np.int64)
    for d in range(codes.shape[1]):
        edges = np.histogram(codes[:, d], num_bins)[1][:-1]
        binned[:, d] = np.digitize(codes[:, d], edges)
    return binned


def discrete_mutual_information(binned: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """(D, K) nats: mutual_info_score between binned code d and factor k."""
    from sklearn.metrics import mutual_info_score

    return np.array([[mutual_info_score(factors[:, k], binned[:, d]) for k in range(factors.shape[1])]
                     for d in range(binned.shape[1])]).reshape(binned.shape[1], factors.shape[1])


def discrete_entropy(factors: np.ndarray) -> np.ndarray:
    """(K,) nats: the entropy of each factor's empirical distribution (mutual_info_score(y, y))."""
    from sklearn.metrics import mutual_info_score

    return np.array([mutual_info_score(factors[:, k], factors[:, k]) for k in range(factors.shape[1])])


def mutual_information_matrix(codes, factors, num_bins: int = NUM_BINS) -> np.ndarray:
    """(D, K) float64, nats: the mutual information between each code dimension, discretised into
    ``num_bins`` (default 20) histogram bins, and each factor."""
    codes, factors = as_codes_and_factors(codes, factors)
    return discrete_mutual_information(histogram_discretize(codes, num_bins), factors)


def mig(codes, factors, num_bins: int = NUM_BINS) -> float:
    """Mutual Information Gap (Chen et al., 2018), as disentanglement_lib's ``discrete_mig``.

    For each factor k: the gap between the largest and second-largest mutual information of k with
    any one code dimension (codes binned into ``num_bins`` = 20 histogram bins), divided by the
    factor's discrete entropy H(k); averaged over factors. In [0, 1]. Needs D >= 2 code dimensions:
    with one there is no second-largest information, and disentanglement_lib fails there (an index
    error), so this is a UserError, and the suite leaves MIG out for one-dimensional codes.
    """
    codes, factors = as_codes_and_factors(codes, factors, need_dims=2)
    information = discrete_mutual_information(histogram_discretize(codes, num_bins), factors)  # (D, K)
    return mig_from_information(information, discrete_entropy(factors))


def mig_from_information(information: np.ndarray, entropy: np.ndarray) -> float:
    """MIG from a (D, K) mutual-information matrix (nats, D >= 2) and the factors' entropies (K,) nats:
    the mean over factors of (largest - second-largest information) / entropy."""
    if information.shape[0] < 2:
        raise UserError(f"MIG needs at least 2 code dimensions (the gap between the two most informative), "
                        f"got {information.shape[0]}")
    top = np.sort(information, axis=0)[::-1]  # (D, K), largest first
    return float(np.mean((top[0] - top[1]) / entropy))


def modularity_from_information(information: np.ndarray) -> float:
    """Modularity (Ridgeway and Mozer, 2018) from a (D, K) mutual-information matrix: per code
    dimension 1 - (sum of squared MI but the largest) / (largest squared MI * (K - 1)); a
    dimension with no information scores 0; averaged over dimensions."""
    squared = np.square(information)
    largest = squared.max(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = 1.0 - (squared.sum(1) - largest) / (largest * (squared.shape[1] - 1.0))
    score[largest == 0.0] = 0.0
    return float(np.mean(score))


def modularity(codes, factors, num_bins: int = NUM_BINS) -> float:
    """Modularity of the codes (Ridgeway and Mozer, 2018) as in disentanglement_lib: from the
    mutual information of codes binned into ``num_bins`` (default 20) histogram bins. In [0, 1];
    needs K >= 2 factors."""
    codes, factors = as_codes_and_factors(codes, factors)
    if factors.shape[1] < 2:
        raise UserError("modularity needs at least 2 factors")
    return modularity_from_information(mutual_information_matrix(codes, factors, num_bins))


def gaussian_total_correlation(codes) -> float:
    """Total correlation, nats, of a Gaussian with the codes' covariance (ddof 1), as
    disentanglement_lib's unsupervised ``gaussian_total_correlation``:
    0.5 * (sum_d log Cov[d, d] - log det Cov). 0 for uncorrelated codes; needs D >= 2 and a
    non-singular covariance."""
    codes = np.asarray(codes, dtype=np.float64)
    if codes.ndim != 2 or codes.shape[1] < 2 or len(codes) <= codes.shape[1]:
        raise UserError(f"the total correlation needs codes (N, D) with D >= 2 and N > D, got shape {codes.shape}")
    covariance = np.cov(codes, rowvar=False)
    sign, log_det = np.linalg.slogdet(covariance)
    if sign <= 0:
        raise UserError("the codes' covariance is singular (a constant or repeated dimension); drop such dimensions")
    return float(0.5 * (np.sum(np.log(np.diag(covariance))) - log_det))


# --- registered: computed by the suite from its shared (D, K) information matrix ------------------


def mig_of(sample: FactorSample) -> dict:
    """MIG of the sample; none for one-dimensional codes (see ``mig``)."""
    if sample.dims < 2:
        return {}
    return {"mig": mig_from_information(sample.information, discrete_entropy(sample.factors))}


def modularity_of(sample: FactorSample) -> dict:
    """Modularity of the sample; none for a single factor (see ``modularity``)."""
    if sample.factors.shape[1] < 2:
        return {}
    return {"modularity": modularity_from_information(sample.information)}


def total_correlation_of(sample: FactorSample) -> dict:
    """The Gaussian total correlation of the codes; none for one-dimensional codes (nothing to correlate)."""
    if sample.dims < 2:
        return {}
    return {"gaussian_total_correlation_nats": gaussian_total_correlation(sample.codes)}


register_metric(Metric("mig", "MIG", "disentanglement", order="higher_is_better", compute=mig_of))
register_metric(Metric("modularity", "modularity", "disentanglement", order="higher_is_better", compute=modularity_of))
register_metric(Metric("gaussian_total_correlation_nats", "Gaussian total correlation, nats", "disentanglement",
                       unit="nats", order="lower_is_better", compute=total_correlation_of, step="total_correlation"))
