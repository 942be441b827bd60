"""Likelihoods p(x|z): decoder parameters (B, params, *data_shape) -> a distribution over x.

Every likelihood returns ``Independent`` over all data dimensions, so ``log_prob`` is one number
per example in nats. Support is checked once per data set by ``check_support`` (a clear error
naming the likelihood), not per batch: per-batch validation forces a host-device sync each step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.distributions import Bernoulli as _Bernoulli
from torch.distributions import ContinuousBernoulli, Distribution, Independent, Normal

from ..config.options import resolve_part
from ..config.section import Section
from ..errors import UserError
from .registry import LIKELIHOODS


class Likelihood(nn.Module):
    """Base: subclasses set ``params`` (decoder outputs per data element) and ``distribution``."""

    params = 1
    support = "real numbers"

    def __init__(self, data_shape: tuple[int, ...]):
        super().__init__()
        self.data_shape = tuple(data_shape)

    def forward(self, decoded: torch.Tensor) -> Distribution:
        """decoded (*lead, params, *data_shape) -> Independent distribution with event shape data_shape."""
        return Independent(self.distribution(decoded), len(self.data_shape), validate_args=False)

    def distribution(self, decoded: torch.Tensor) -> Distribution:
        raise NotImplementedError

    def param(self, decoded: torch.Tensor, index: int) -> torch.Tensor:
        """The index-th parameter map, (*lead, *data_shape)."""
        return decoded.select(-1 - len(self.data_shape), index)

    def parameter_maps(self, decoded: torch.Tensor) -> dict[str, torch.Tensor]:
        """The distribution's parameters by name, each (*lead, *data_shape) or (*lead, K, *data_shape),
        as an exported decoder gives them; here the decoder's output whole, (*lead, params, *data_shape)."""
        return {"params": decoded}

    def in_support(self, x: torch.Tensor) -> torch.Tensor:
        return torch.isfinite(x).all()

    def check_support(self, x: torch.Tensor, name: str, source: str) -> None:
        """Raise a UserError naming ``source`` when x lies outside this likelihood's support."""
        if not bool(self.in_support(x)):
            low, high = float(x.min()), float(x.max())
            raise UserError(
                f"{source}: values in [{low:g}, {high:g}] are outside the support of likelihood {name!r} "
                f"({self.support}); choose a likelihood that fits the data, or binarise it "
                f"(--set data.binarize=dynamic)"
            )


class BernoulliEvents(Independent):
    """Independent Bernoulli(logits) over the data dimensions, with a faster ``log_prob``:
    sum over the event of x * logit - softplus(logit) (the same value as torch's Bernoulli, up to
    float rounding) in three passes over the logits; torch's binary cross-entropy takes about
    seven, materialises the broadcast x, and its log-sigmoid is slower than softplus on CPU.
    The importance sampler spends a quarter of its time here."""

    def log_prob(self, value: torch.Tensor) -> torch.Tensor:
        logits = self.base_dist.logits  # (*lead, *event)
        minus = torch.addcmul(F.softplus(logits), logits, value, value=-1)  # -log p per element
        return -minus.sum(dim=tuple(range(-self.reinterpreted_batch_ndims, 0)))  # (*lead,)


@LIKELIHOODS.register("bernoulli")
class Bernoulli(Likelihood):
    """Binary data; the decoder outputs logits."""

    support = "exactly 0 or 1"

    def forward(self, decoded: torch.Tensor) -> Distribution:
        return BernoulliEvents(self.distribution(decoded), len(self.data_shape), validate_args=False)

    def distribution(self, decoded):
        return _Bernoulli(logits=self.param(decoded, 0), validate_args=False)

    def parameter_maps(self, decoded):
        return {"logits": self.param(decoded, 0)}

    def in_support(self, x):
        return ((x == 0) | (x == 1)).all()


SERIES_BELOW = 0.1  # |logit| under which the continuous Bernoulli's mean is taken from its Taylor series


class ContinuousBernoulliEvents(ContinuousBernoulli):
    """torch's continuous Bernoulli with a mean accurate to float32 rounding everywhere, written in the logit
    eta = log(p / (1 - p)) (p = 1/2 + tanh(eta / 2) / 2):

        E[x] = 1/2 + coth(eta / 2) / 2 - 1 / eta,    and 1/2 + eta / 12 - eta^3 / 720 where |eta| < 0.1,

    where the closed form cancels (the series' next term, eta^5 / 30240, is below 4e-10 there). torch's
    mean, p / (2p - 1) + 1 / (log(1 - p) - log p), cancels near p = 1/2 (errors of 1e-3 just outside its
    Taylor window), so two correct runtimes (PyTorch, ONNX Runtime) disagreed by that much. Its test of
    that window is also written as a logical or (torch takes the max of two boolean tensors, which ONNX
    Runtime rejects), for log_prob and the variance; the same values."""

    @property
    def mean(self) -> torch.Tensor:
        eta = self.logits
        small = eta.abs() < SERIES_BELOW
        safe = torch.where(small, 1.0, eta)  # no division by 0 in the branch not taken
        return torch.where(small, 0.5 + eta / 12 - eta**3 / 720, 0.5 + 0.5 / torch.tanh(safe / 2) - 1 / safe)

    def _outside_unstable_region(self):
        return torch.logical_or(torch.le(self.probs, self._lims[0]), torch.gt(self.probs, self._lims[1]))


@LIKELIHOODS.register("continuous_bernoulli")
class ContinuousBernoulliLikelihood(Likelihood):
    """Grey levels in [0, 1] (Loaiza-Ganem and Cunningham, 2019); the decoder outputs logits."""

    support = "the interval [0, 1]"

    def distribution(self, decoded):
        return ContinuousBernoulliEvents(logits=self.param(decoded, 0), validate_args=False)

    def parameter_maps(self, decoded):
        return {"logits": self.param(decoded, 0)}

    def in_support(self, x):
        return ((x >= 0) & (x <= 1)).all()


@LIKELIHOODS.register("gaussian")
class FixedGaussian(Likelihood):
    """Real values with a fixed standard deviation ``sigma`` (option model.likelihood.sigma; 1 is the
    plain L2 loss)."""

    def __init__(self, data_shape, *, sigma: float = 1.0):
        super().__init__(data_shape)
        if not sigma > 0:
            raise UserError(f"model.likelihood.sigma must be positive, got {sigma}")
        self.register_buffer("sigma", torch.tensor(float(sigma)))

    def distribution(self, decoded):
        loc = self.param(decoded, 0)
        return Normal(loc, self.sigma.expand_as(loc), validate_args=False)

    def parameter_maps(self, decoded):
        """The mean; the standard deviation is the option ``sigma``, the same for every output."""
        return {"loc": self.param(decoded, 0)}


@LIKELIHOODS.register("gaussian_learned")
class LearnedGaussian(Likelihood):
    """Real values with a standard deviation learned per feature (or per pixel), shared over examples."""

    def __init__(self, data_shape):
        super().__init__(data_shape)
        self.log_sigma = nn.Parameter(torch.zeros(self.data_shape))

    def distribution(self, decoded):
        loc = self.param(decoded, 0)
        return Normal(loc, self.log_sigma.exp().expand_as(loc), validate_args=False)

    def parameter_maps(self, decoded):
        loc = self.param(decoded, 0)
        return {"loc": loc, "scale": self.log_sigma.exp().expand_as(loc)}


def build_likelihood(likelihood: Section, data_shape: tuple[int, ...]) -> Likelihood:
    """The registered likelihood ``likelihood.name`` for data of ``data_shape`` with its options."""
    if likelihood.name == "auto":
        raise UserError(
            "model.likelihood.name 'auto' is chosen from the data by vaekit.train; to build a model directly, "
            f"name the likelihood: one of {', '.join(LIKELIHOODS.names())}"
        )
    return LIKELIHOODS.get(likelihood.name)(tuple(data_shape), **likelihood.options)


def chosen_likelihood(likelihood: Section, name: str) -> Section:
    """``likelihood`` with the name 'auto' replaced by ``name`` (chosen from the data), its options
    checked against that likelihood; a named one unchanged."""
    if likelihood.name != "auto":
        return likelihood
    return resolve_part(LIKELIHOODS, {**likelihood, "name": name}, "model.likelihood")
