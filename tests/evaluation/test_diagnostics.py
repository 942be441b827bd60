"""Latent diagnostics against models whose answers are known by construction.

The encoder is replaced by a flatten and the head's weights are set by hand: latent dimension d
of the posterior mean is ``weight * x_d + bias``, so Var_x(E[z_d|x]) = weight^2 Var(x_d) exactly,
and a dimension with zero weight has a constant posterior whose KL is a closed-form number.
"""

import math

import pytest
import torch
from torch import nn

from vaekit.config import ModelConfig
from vaekit.data.array import ArrayData
from vaekit.evaluation.diagnostics import latent_diagnostics
from vaekit.evaluation.likelihood import evaluate
from vaekit.models.model import build_model

SHAPE = (1, 4, 4)  # 16 pixels, images
LATENT = 6
WEIGHTS = [1.0, 2.0, 0.5, 0.01, 0.0, 0.0]  # Var(x_d) = 1/12: variances 0.083, 0.33, 0.021 | 8e-6, 0, 0
ACTIVE = 3
LOG_VAR = [-2.0, -1.0, -3.0, 0.5, -0.5, 0.0]  # constant log variances
BIAS = [0.0, 0.3, -0.2, 0.7, 1.5, -0.4]


def constructed_model(name: str = "vae", scale: float = 1.0, shape: tuple = SHAPE) -> nn.Module:
    """A model whose posterior mean is z_d = WEIGHTS[d] * x_d / scale + BIAS[d] (pixel d), with fixed log variances."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = build_model(ModelConfig(name=name, hidden=(8,), latent_dim=LATENT, likelihood="gaussian"), shape)
    model.encoder = nn.Flatten()
    model.head = type(model.head)(16, LATENT)
    linear = model.head.linear
    with torch.no_grad():
        linear.weight.zero_()
        linear.bias.zero_()
        for d, weight in enumerate(WEIGHTS):
            linear.weight[d, d] = weight / scale
            linear.bias[d] = BIAS[d]
            if name == "vae":
                linear.bias[LATENT + d] = LOG_VAR[d]  # the second half of the outputs: log sigma^2
    return model.eval()


def uniform_images(n: int = 101, scale: float = 1.0) -> ArrayData:
    values = torch.rand(n, *SHAPE, generator=torch.Generator().manual_seed(1)) * scale  # (n, 1, 4, 4)
    return ArrayData(values, None, "uniform")


def test_active_units_and_posterior_mean_variance_are_exact():
    data = uniform_images()
    result = latent_diagnostics(constructed_model(), data, batch_size=7)  # 7 does not divide 101: a ragged last batch
    assert result["active_units"] == ACTIVE
    assert result["active_unit_threshold"] == 0.01
    pixels = data.values.flatten(1).double()  # (n, 16)
    expected = [weight**2 * float(pixels[:, d].var(unbiased=False)) for d, weight in enumerate(WEIGHTS)]
    assert result["posterior_mean_variance"] == pytest.approx(expected, rel=1e-5, abs=1e-12)


def test_kl_per_dimension_is_closed_form_and_sums_to_the_elbo_kl():
    data = uniform_images()
    model = constructed_model()
    result = latent_diagnostics(model, data, batch_size=10)
    kl = result["kl_per_dim_nats"]
    assert len(kl) == LATENT and min(kl) >= 0
    for d in (4, 5):  # constant posterior N(BIAS[d], exp(LOG_VAR[d])) against N(0, 1)
        var = math.exp(LOG_VAR[d])
        assert kl[d] == pytest.approx(0.5 * (var + BIAS[d] ** 2 - 1 - LOG_VAR[d]), rel=1e-5)
    assert sum(kl) == pytest.approx(evaluate(model, data)["kl_nats"], rel=1e-6)


def test_reconstruction_mse_and_psnr_match_a_direct_computation():
    data = uniform_images()
    model = constructed_model()
    result = latent_diagnostics(model, data, batch_size=16)
    x = data.inputs()
    mse = float(((x.double() - model.reconstruct(x).double()) ** 2).mean())
    assert result["reconstruction_mse"] == pytest.approx(mse, rel=1e-6)
    assert result["psnr_db"] == pytest.approx(10 * math.log10(1 / mse), rel=1e-6)


def test_psnr_peak_is_the_data_range_outside_the_unit_interval():
    data = uniform_images(scale=4.0)  # values in [0, 4)
    result = latent_diagnostics(constructed_model(scale=4.0), data)
    x = data.inputs()
    peak = float(x.max() - x.min())
    assert result["psnr_db"] == pytest.approx(10 * math.log10(peak**2 / result["reconstruction_mse"]), rel=1e-9)
    assert result["active_units"] == ACTIVE  # the same latent means as at scale 1


def test_flat_data_get_no_psnr():
    data = ArrayData(uniform_images().values.flatten(1), None, "flat")
    result = latent_diagnostics(constructed_model(shape=(16,)), data)
    assert "psnr_db" not in result and result["reconstruction_mse"] > 0


def test_autoencoder_counts_active_units_on_point_encodings_and_has_no_kl():
    result = latent_diagnostics(constructed_model("ae"), uniform_images())
    assert "kl_per_dim_nats" not in result
    assert result["active_units"] == ACTIVE


def test_the_callers_random_state_is_untouched_and_the_result_repeats():
    data, model = uniform_images(), constructed_model()
    before = torch.random.get_rng_state()
    first = latent_diagnostics(model, data)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert latent_diagnostics(model, data) == first
