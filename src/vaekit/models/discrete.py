"""Discrete likelihoods for 8-bit data: a 256-way categorical and a discretised logistic mixture.

The model sees 8-bit levels v = 0..255 as x = v / 255 (the data stay uint8 until a batch is read);
these likelihoods turn x back into v and give log P(V = v), a log-probability of a discrete value,
so NLL >= 0 and bits/dim = NLL / (D ln 2) compare with published numbers (VQ-VAE, PixelCNN++).

``discretized_logistic`` follows PixelCNN++ (Salimans et al., 2017): a mixture of K logistics per
sub-pixel integrated over each bin [(v - 1/2) / 255, (v + 1/2) / 255], the bins of v = 0 and
v = 255 extended to -inf and +inf, so the 256 probabilities sum to 1 by construction. The bin mass
is computed in log space without branches:

    log(sigmoid(a) - sigmoid(b)) = log sigmoid(a) + log sigmoid(-b) + log(-expm1(b - a)),   a > b

which is exact for any a, b (no cancellation when both lie far out in one tail, no 1e-5 switch to
the density as in PixelCNN++'s code). With ``model.likelihood.channel_coupling`` on 3-channel images, one
mixture indicator is shared by the pixel's three sub-pixels and the means of green and blue move
linearly with the observed red (and green), the coefficients through tanh, as in PixelCNN++.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.distributions import Distribution, constraints

from ..errors import UserError
from .likelihoods import Likelihood
from .registry import LIKELIHOODS

LEVELS = 256
LOG_SCALE_RANGE = (-10.0, 10.0)  # clamp of log s (x units, bins 1/255 wide): keeps every bin mass finite


def levels_of(x: torch.Tensor) -> torch.Tensor:
    """x = v / 255 (any float dtype) -> v (same shape) int64 in 0..255."""
    return (x * (LEVELS - 1)).round().clamp(0, LEVELS - 1).long()


class DiscreteLikelihood(Likelihood):
    """Base of the 8-bit likelihoods: support, and the evaluation's memory hint."""

    support = "8-bit levels v / 255, v = 0..255 (uint8 data, scale 1/255)"

    def in_support(self, x):
        scaled = x * (LEVELS - 1)
        return ((x >= 0) & (x <= 1) & ((scaled - scaled.round()).abs() < 1e-3)).all()

    @property
    def memory_factor(self) -> int:
        """Decoded values per input element: evaluation shrinks its batches by this much."""
        return self.params


class EventDistribution(Distribution):
    """A distribution over whole examples: batch shape ``lead``, event shape ``data_shape``;
    ``log_prob`` sums over the event, one number in nats per example."""

    arg_constraints: dict = {}
    support = constraints.real

    def __init__(self, lead: torch.Size, data_shape: tuple[int, ...]):
        super().__init__(torch.Size(lead), torch.Size(data_shape), validate_args=False)
        self.event_dims = tuple(range(-len(data_shape), 0))


class Categorical256Events(EventDistribution):
    """logits (*lead, 256, *data_shape): one 256-way softmax per sub-pixel."""

    def __init__(self, logits: torch.Tensor, data_shape: tuple[int, ...]):
        self.logits, self.axis = logits, -1 - len(data_shape)
        super().__init__(logits.shape[: self.axis], data_shape)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """x (*, *data_shape) in v / 255, broadcast against the batch -> (*lead,) nats."""
        log_p = self.logits.log_softmax(self.axis)  # (*lead, 256, *data_shape)
        v = levels_of(x).unsqueeze(self.axis).expand(*self.batch_shape, 1, *self.event_shape)
        return log_p.gather(self.axis, v).squeeze(self.axis).sum(self.event_dims)

    @property
    def mean(self) -> torch.Tensor:
        values = torch.arange(LEVELS, device=self.logits.device, dtype=self.logits.dtype) / (LEVELS - 1)
        shape = (LEVELS,) + (1,) * len(self.event_shape)
        return (self.logits.softmax(self.axis) * values.view(shape)).sum(self.axis)

    def sample(self, sample_shape=torch.Size()) -> torch.Tensor:
        """One draw of every sub-pixel, (*lead, *data_shape) in v / 255."""
        if tuple(sample_shape):
            raise NotImplementedError("draw one sample at a time")
        probs = self.logits.movedim(self.axis, -1).softmax(-1)  # (*lead, *data_shape, 256)
        v = torch.multinomial(probs.reshape(-1, LEVELS), 1).view(probs.shape[:-1])
        return v.to(self.logits.dtype) / (LEVELS - 1)


@LIKELIHOODS.register("categorical256")
class Categorical256(DiscreteLikelihood):
    """8-bit data; a 256-way categorical per sub-pixel (VQ-VAE's likelihood). 256 decoder outputs per sub-pixel."""

    params = LEVELS

    def forward(self, decoded):
        return Categorical256Events(decoded, self.data_shape)

    def parameter_maps(self, decoded):
        """logits (*lead, 256, *data_shape) of the levels v = 0..255 of each sub-pixel."""
        return {"logits": decoded}


def log_bin_mass(x: torch.Tensor, loc: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """log P(V = v) under a logistic(loc, exp(log_scale)) discretised to 256 bins; x = v / 255.

    Broadcasts x, loc, log_scale; the edge bins reach to -inf (v = 0) and +inf (v = 255)."""
    half = 0.5 / (LEVELS - 1)
    inv_scale = torch.exp(-log_scale)
    upper = (x - loc + half) * inv_scale  # a: the bin's upper edge, standardised
    lower = (x - loc - half) * inv_scale  # b = a - 1 / (255 s)
    inner = F.logsigmoid(upper) + F.logsigmoid(-lower) + torch.log(-torch.expm1(-inv_scale / (LEVELS - 1)))
    return torch.where(x < half, F.logsigmoid(upper), torch.where(x > 1 - half, F.logsigmoid(-lower), inner))


class DiscretizedLogisticEvents(EventDistribution):
    """Mixture of K discretised logistics per sub-pixel (or per pixel, coupled).

    logits, loc, log_scale: (*lead, K, *data_shape); coeffs (*lead, K, 3, H, W) or None (no coupling)."""

    def __init__(self, logits, loc, log_scale, coeffs, data_shape):
        self.logits, self.loc, self.log_scale, self.coeffs = logits, loc, log_scale, coeffs
        self.axis = -1 - len(data_shape)  # the mixture axis
        if coeffs is not None:  # one indicator per pixel: the channels' logits add up
            self.logits = logits.sum(-3, keepdim=True).expand_as(logits)
        super().__init__(logits.shape[: self.axis], data_shape)

    def coupled_loc(self, x: torch.Tensor) -> torch.Tensor:
        """The means (*lead, K, 3, H, W) given the pixel's observed red and green x (*, 3, H, W)."""
        if self.coeffs is None:
            return self.loc
        red, green = x[..., 0:1, :, :].unsqueeze(self.axis), x[..., 1:2, :, :].unsqueeze(self.axis)  # (*, 1, 1, H, W)
        alpha, beta, gamma = torch.tanh(self.coeffs).split(1, dim=-3)  # (*lead, K, 1, H, W) each
        # red's shift is 0 * (alpha * red), not zeros_like: a traced graph (vaekit export) would keep the zeros' shape
        shift = torch.cat([0 * (alpha * red), alpha * red, beta * red + gamma * green], -3)
        return self.loc + shift

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """x (*, *data_shape) in v / 255 -> (*lead,) nats."""
        x_k = x.unsqueeze(self.axis)  # (*, 1, *data_shape): broadcast over the K components
        log_p = log_bin_mass(x_k, self.coupled_loc(x), self.log_scale)  # (*lead, K, *data_shape)
        log_w = self.logits.log_softmax(self.axis)
        if self.coeffs is not None:  # a mixture per pixel of products over its channels
            joint = (log_w[..., 0:1, :, :] + log_p.sum(-3, keepdim=True)).logsumexp(self.axis)  # (*lead, 1, H, W)
            return joint.sum(self.event_dims)
        return (log_w + log_p).logsumexp(self.axis).sum(self.event_dims)

    @property
    def mean(self) -> torch.Tensor:
        """E[V] / 255 per sub-pixel, exact: sum over j = 1..255 of P(V >= j) / 255. With coupling,
        green and blue are taken with red (and green) at their means."""
        if self.coeffs is None:
            return self.expected(self.loc)
        mean = self.expected(self.loc)  # red is exact; green and blue follow it
        for _ in range(2):
            mean = self.expected(self.coupled_loc(mean))
        return mean

    def expected(self, loc: torch.Tensor) -> torch.Tensor:
        weights = self.logits.softmax(self.axis)  # (*lead, K, *data_shape)
        inv_scale = torch.exp(-self.log_scale)
        total = 0  # a number, not zeros of loc's shape: a traced graph would keep that shape's batch size
        for j in range(1, LEVELS):  # P(V >= j) = 1 - F(lower edge of bin j)
            edge = (j - 0.5) / (LEVELS - 1)
            total = total + (weights * torch.sigmoid((loc - edge) * inv_scale)).sum(self.axis)
        return total / (LEVELS - 1)

    def sample(self, sample_shape=torch.Size()) -> torch.Tensor:
        """One draw per sub-pixel (*lead, *data_shape) in v / 255; coupled channels in order R, G, B."""
        if tuple(sample_shape):
            raise NotImplementedError("draw one sample at a time")
        logits = self.logits.movedim(self.axis, -1)  # (*lead, *data_shape, K)
        if self.coeffs is not None:  # one component per pixel, shared by its channels
            logits = logits[..., 0:1, :, :, :]
        k = torch.multinomial(logits.softmax(-1).reshape(-1, logits.shape[-1]), 1).view(*logits.shape[:-1], 1)
        k = k.expand(*self.batch_shape, *self.event_shape, 1)
        pick = lambda t: t.movedim(self.axis, -1).gather(-1, k).squeeze(-1)  # noqa: E731  (*lead, *data_shape)
        u = torch.rand(tuple(k.shape[:-1]), device=k.device, dtype=self.loc.dtype).clamp(1e-5, 1 - 1e-5)
        noise = torch.exp(pick(self.log_scale)) * (torch.log(u) - torch.log1p(-u))
        x = self.quantize(pick(self.loc) + noise)
        if self.coeffs is not None:  # green given red, then blue given red and green
            for _ in range(2):
                x = self.quantize(pick(self.coupled_loc(x)) + noise)
        return x

    @staticmethod
    def quantize(y: torch.Tensor) -> torch.Tensor:
        return levels_of(y).to(y.dtype) / (LEVELS - 1)


@LIKELIHOODS.register("discretized_logistic")
class DiscretizedLogistic(DiscreteLikelihood):
    """8-bit data; a mixture of ``mixtures`` discretised logistics per sub-pixel (PixelCNN++),
    with ``channel_coupling`` the PixelCNN++ dependence of green and blue on red for RGB.

    Decoder outputs per sub-pixel: K logits, K means, K log-scales (and K coupling coefficients)."""

    def __init__(self, data_shape, *, mixtures: int = 1, channel_coupling: bool = False):
        super().__init__(data_shape)
        self.mixtures, self.coupled = mixtures, channel_coupling
        if self.mixtures < 1:
            raise UserError(f"model.likelihood.mixtures must be at least 1, got {self.mixtures}")
        if self.coupled and (len(self.data_shape) != 3 or self.data_shape[0] != 3):
            shape = "x".join(map(str, self.data_shape))
            raise UserError(f"model.likelihood.channel_coupling needs RGB images (3 x H x W), got {shape}; "
                            "set model.likelihood.channel_coupling=false")
        self.params = (4 if self.coupled else 3) * self.mixtures

    def forward(self, decoded):
        return DiscretizedLogisticEvents(*self.split(decoded), self.data_shape)

    def split(self, decoded: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(logits, loc, log_scale clamped, coeffs or None), each (*lead, K, *data_shape)."""
        axis = -1 - len(self.data_shape)
        groups = decoded.unflatten(axis, (self.params // self.mixtures, self.mixtures))  # (*lead, G, K, *data)
        logits, loc, log_scale = (groups.select(axis - 1, i) for i in range(3))
        coeffs = groups.select(axis - 1, 3) if self.coupled else None
        return logits, loc, log_scale.clamp(*LOG_SCALE_RANGE), coeffs

    def parameter_maps(self, decoded):
        """The mixture's logits, means (x units) and log-scales, and with coupling the coefficients (through
        tanh: alpha, beta, gamma of PixelCNN++), each (*lead, K, *data_shape); with coupling the pixel's
        mixture weights are the softmax of its channels' logits summed."""
        logits, loc, log_scale, coeffs = self.split(decoded)
        maps = {"logits": logits, "loc": loc, "log_scale": log_scale}
        return maps if coeffs is None else {**maps, "coeffs": coeffs}

