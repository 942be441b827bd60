"""The likelihoods' named parameters (what an exported decoder gives) and the continuous Bernoulli's mean."""

import math

import pytest
import torch

from vaekit.models.likelihoods import ContinuousBernoulliEvents
from vaekit.models.registry import LIKELIHOODS

SHAPE = (3, 2, 2)


def integrated_mean(eta: float) -> float:
    """E[x] of the continuous Bernoulli with logit eta, by the midpoint rule on 200,000 bins in float64:
    density proportional to exp(eta * x) on [0, 1]."""
    x = (torch.arange(200_000, dtype=torch.float64) + 0.5) / 200_000
    log_w = eta * x
    w = (log_w - log_w.max()).exp()
    return float((x * w).sum() / w.sum())


@pytest.mark.parametrize("eta", [-40.0, -3.0, -0.5, -0.1, -0.05, -0.004, -1e-6, 0.0, 2e-4, 0.004, 0.0999, 0.1001, 0.7, 9.0])
def test_the_continuous_bernoulli_mean_is_accurate_in_float32_even_near_one_half(eta):
    mean = ContinuousBernoulliEvents(logits=torch.tensor([eta], dtype=torch.float32)).mean
    assert mean.dtype == torch.float32
    assert math.isclose(float(mean), integrated_mean(eta), abs_tol=2e-6)


@pytest.mark.parametrize("name", LIKELIHOODS.names())
def test_every_likelihood_names_parameter_maps_shaped_as_the_data(name):
    likelihood = LIKELIHOODS.get(name)(SHAPE)
    decoded = torch.randn(4, likelihood.params, *SHAPE, generator=torch.Generator().manual_seed(0))
    maps = likelihood.parameter_maps(decoded)
    assert maps and "mean" not in maps  # the exported decoder adds the mean under that name
    for key, value in maps.items():
        assert value.shape[:1] == (4,) and value.shape[-len(SHAPE):] == SHAPE, key
        assert value.ndim in (1 + len(SHAPE), 2 + len(SHAPE)), key
    held = HELD[name](likelihood(decoded)) if name in HELD else {}  # the very parameters the distribution holds
    assert held.keys() <= maps.keys()
    for key, value in held.items():
        assert torch.equal(maps[key], value), key


HELD = {  # likelihood -> the parameters its distribution holds, by the names parameter_maps gives them
    "bernoulli": lambda d: {"logits": d.base_dist.logits},
    "continuous_bernoulli": lambda d: {"logits": d.base_dist.logits},
    "gaussian": lambda d: {"loc": d.base_dist.loc},
    "gaussian_learned": lambda d: {"loc": d.base_dist.loc, "scale": d.base_dist.scale},
    "categorical256": lambda d: {"logits": d.logits},
    "discretized_logistic": lambda d: {"logits": d.logits, "loc": d.loc, "log_scale": d.log_scale},
}
