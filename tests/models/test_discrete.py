"""The 8-bit likelihoods (categorical256, discretized_logistic): normalised over the 256 levels in
float64, equal to a direct formula, finite at the edge levels with extreme parameters, gradients to
every parameter, means and samples that agree with the probabilities; and the runs that use them
(NLL >= 0, bits/dim = NLL / (D ln 2), the auto rule, clear errors)."""

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from vaekit import UserError
from vaekit.cli import main
from vaekit.data.array import from_arrays
from vaekit.models.discrete import Categorical256, DiscretizedLogistic
from vaekit.runs.prepared import resolve_likelihood
from vaekit.runs.train import train

LEVELS = torch.arange(256, dtype=torch.float64) / 255  # every value of one sub-pixel, as the model sees it


def all_levels(likelihood, decoded: torch.Tensor) -> torch.Tensor:
    """log P(V = v) for v = 0..255 of one sub-pixel (data shape (1, 1, 1)): (256,) float64."""
    dist = likelihood(decoded.expand(256, *decoded.shape[1:]))
    return dist.log_prob(LEVELS.view(256, 1, 1, 1))


def random_decoded(likelihood, seed: int, scale: float = 2.0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return scale * torch.randn(1, likelihood.params, *likelihood.data_shape, generator=generator, dtype=torch.float64)


def logistic_cdf(t: torch.Tensor, loc: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    return 1 / (1 + torch.exp(-(t - loc) / scale))


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("mixtures", [1, 3])
def test_discretized_logistic_sums_to_one_and_equals_the_direct_formula(seed, mixtures):
    likelihood = DiscretizedLogistic((1, 1, 1), mixtures=mixtures)
    decoded = random_decoded(likelihood, seed)
    log_p = all_levels(likelihood, decoded)
    assert abs(float(log_p.exp().sum()) - 1) < 1e-12
    # Direct: sum_k pi_k [F(upper edge) - F(lower edge)], the edge bins reaching to -inf and +inf.
    logits, loc, log_scale = decoded.view(3, mixtures)
    scale = log_scale.clamp(-10, 10).exp()
    upper = torch.where(LEVELS == 1, torch.tensor(math.inf, dtype=torch.float64), LEVELS + 0.5 / 255)[:, None]
    lower = torch.where(LEVELS == 0, torch.tensor(-math.inf, dtype=torch.float64), LEVELS - 0.5 / 255)[:, None]
    mass = logistic_cdf(upper, loc, scale) - logistic_cdf(lower, loc, scale)  # (256, K)
    direct = (logits.softmax(0) * mass).sum(1)
    # The direct differences of CDFs lose relative accuracy in the tails (absolute error ~1e-16), the
    # log-space form does not: compared as probabilities, and as logs where they are not tiny.
    torch.testing.assert_close(log_p.exp(), direct, rtol=1e-9, atol=1e-14)
    large = direct > 1e-6
    torch.testing.assert_close(log_p[large], direct[large].log(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_categorical256_sums_to_one_and_is_the_softmax(seed):
    likelihood = Categorical256((1, 1, 1))
    decoded = random_decoded(likelihood, seed, 5.0)
    log_p = all_levels(likelihood, decoded)
    assert abs(float(log_p.exp().sum()) - 1) < 1e-12
    torch.testing.assert_close(log_p, decoded.flatten().softmax(0).log(), rtol=1e-12, atol=1e-12)


def coupled_mass(likelihood, decoded, reds: torch.Tensor) -> torch.Tensor:
    """(len(reds),): P(red = r) of a coupled pixel, summed over all 256^2 greens and blues."""
    grid = torch.cartesian_prod(LEVELS, LEVELS)  # (65536, 2): green, blue
    colours = torch.cat([reds.repeat_interleave(len(grid))[:, None], grid.repeat(len(reds), 1)], 1)  # (n, 3)
    dist = likelihood(decoded.expand(len(colours), *decoded.shape[1:]))
    return dist.log_prob(colours.view(-1, 3, 1, 1)).exp().view(len(reds), -1).sum(1)


def test_coupled_rgb_logistics_marginalise_to_the_red_mixture():
    """With channel coupling, summing the joint over green and blue leaves red's own mixture:
    sum_k pi_k P_k(red), pi the shared mixture weights (the logits of the three channels added)."""
    likelihood = DiscretizedLogistic((3, 1, 1), mixtures=2, channel_coupling=True)
    decoded = random_decoded(likelihood, 0, 1.0)
    reds = LEVELS[torch.tensor([0, 37, 128, 255])]
    groups = decoded.view(4, 2, 3)  # (logits/loc/log-scale/coeff, K, channel)
    red_only = DiscretizedLogistic((1, 1, 1), mixtures=2)
    red_params = torch.stack([groups[0].sum(1), groups[1, :, 0], groups[2, :, 0]]).view(1, 6, 1, 1, 1)
    expected = all_levels(red_only, red_params).exp()[(reds * 255).round().long()]
    torch.testing.assert_close(coupled_mass(likelihood, decoded, reds), expected, rtol=1e-10, atol=1e-13)


@pytest.mark.slow
def test_coupled_rgb_logistics_sum_to_one_over_all_colours():
    """With channel coupling the pixel's joint over 256^3 colours sums to 1 (summed in chunks of red)."""
    likelihood = DiscretizedLogistic((3, 1, 1), mixtures=2, channel_coupling=True)
    decoded = random_decoded(likelihood, 0, 1.0)
    total = sum(float(coupled_mass(likelihood, decoded, reds).sum()) for reds in LEVELS.split(16))
    assert abs(total - 1) < 1e-9


def test_coupling_moves_green_with_red():
    """Coefficient alpha > 0: green's distribution shifts up when red is brighter (PixelCNN++'s dependence)."""
    likelihood = DiscretizedLogistic((3, 1, 1), mixtures=1, channel_coupling=True)
    decoded = torch.zeros(1, 4, 3, 1, 1, dtype=torch.float64)
    decoded[0, 2] = -3.0  # log-scales: narrow
    decoded[0, 3, 0] = 1.0  # alpha = tanh(1): green's mean moves with red
    dist = likelihood(decoded.expand(2, -1, -1, -1, -1))
    dark, bright = torch.tensor([0.2, 0.5, 0.0]), torch.tensor([0.8, 0.5, 0.0])
    colours = torch.stack([dark, bright]).view(2, 3, 1, 1).double()
    with_green_up = colours.clone()
    with_green_up[:, 1] += 0.3
    gain = dist.log_prob(with_green_up) - dist.log_prob(colours)  # (2,): moving green up helps only with bright red
    assert gain[1] > gain[0]


@pytest.mark.parametrize("name", ["categorical256", "discretized_logistic"])
@pytest.mark.parametrize("loc", [-1e4, 1e4])
@pytest.mark.parametrize("log_scale", [-50.0, 50.0])
def test_log_probabilities_are_finite_at_0_and_255_with_extreme_parameters(name, loc, log_scale):
    shape = (3, 2, 2)
    likelihood = (Categorical256(shape) if name == "categorical256"
                  else DiscretizedLogistic(shape, mixtures=2))
    decoded = torch.full((2, likelihood.params, *shape), loc, dtype=torch.float32)
    if name == "discretized_logistic":
        decoded[:, 4:6] = log_scale  # the log-scales of the two components
        decoded[:, 0] = 1e4  # a very sure mixture weight
    decoded.requires_grad_(True)
    x = torch.stack([torch.zeros(shape), torch.ones(shape)])  # levels 0 and 255
    log_p = likelihood(decoded).log_prob(x)
    assert torch.isfinite(log_p).all() and (log_p <= 0).all()
    log_p.sum().backward()
    assert torch.isfinite(decoded.grad).all()


@pytest.mark.parametrize("config", [dict(mixtures=3), dict(mixtures=2, channel_coupling=True)])
def test_gradients_reach_every_parameter_of_the_discretized_logistic(config):
    likelihood = DiscretizedLogistic((3, 4, 4), **config)
    decoded = (0.5 * torch.randn(5, likelihood.params, 3, 4, 4)).requires_grad_(True)
    x = torch.randint(0, 256, (5, 3, 4, 4)).float() / 255
    likelihood(decoded).log_prob(x).sum().backward()
    groups = decoded.grad.view(5, -1, likelihood.mixtures, 3, 4, 4)  # (B, logits/loc/log-scale[/coeff], K, ...)
    for group in range(groups.shape[1]):
        assert (groups[:, group].abs().sum(0) > 0).all(), f"parameter group {group} gets no gradient somewhere"


@pytest.mark.parametrize("name", ["categorical256", "discretized_logistic"])
def test_mean_is_the_expectation_over_the_levels_and_samples_agree(name):
    likelihood = Categorical256((1, 1, 1)) if name == "categorical256" else DiscretizedLogistic(
        (1, 1, 1), mixtures=2)
    decoded = random_decoded(likelihood, 3, 1.0)
    expected = float((all_levels(likelihood, decoded).exp() * LEVELS).sum())
    dist = likelihood(decoded)
    assert abs(float(dist.mean.flatten()[0]) - expected) < 1e-9
    torch.manual_seed(0)
    draws = likelihood(decoded.expand(20000, *decoded.shape[1:])).sample()
    assert set((draws * 255).round().unique().tolist()) <= set(range(256))
    assert abs(float(draws.mean()) - expected) < 4 * float(draws.std()) / math.sqrt(20000) + 1e-3


def colour_bytes(n: int = 96, size: int = 8, seed: int = 0) -> np.ndarray:
    """(n, 3, size, size) uint8 colour images with some structure (smooth ramps plus noise)."""
    generator = np.random.default_rng(seed)
    ramp = np.linspace(0, 200, size)[None, None, None, :]
    base = generator.integers(0, 55, (n, 3, 1, 1))
    return (ramp + base + generator.integers(0, 10, (n, 3, size, size))).astype(np.uint8)


@pytest.mark.parametrize("likelihood", ["categorical256", "discretized_logistic"])
def test_discrete_runs_report_nonnegative_nll_and_bits_per_dim_from_it(likelihood, tmp_path):
    run = train(data=colour_bytes(), out=tmp_path / "run", likelihood=likelihood, epochs=2, trunk="conv",
                device="cpu", latent_dim=4)
    from vaekit.runs.evaluate import evaluate_run
    from vaekit.runs.open import evaluation_data

    results = evaluate_run(evaluation_data(run.model, run.config, run.data), k=5)
    dims = 3 * 8 * 8
    assert results["nll_nats"] >= 0 and -results["elbo_nats"] >= results["nll_nats"] - 1e-6
    assert results["nll_bits_per_dim"] == pytest.approx(results["nll_nats"] / (dims * math.log(2)), rel=1e-12)
    assert run.data.binarize == "none" and run.data.train.values.dtype == torch.uint8


def test_auto_picks_discretized_logistic_for_8_bit_colour_and_bernoulli_for_grey():
    colour = from_arrays(colour_bytes(4), None, "colour")
    grey = from_arrays(colour_bytes(4)[:, :1], None, "grey")
    unit_colour = from_arrays(colour_bytes(4).astype(np.float32) / 255, None, "float colour")
    real = from_arrays(np.random.default_rng(0).normal(size=(4, 5)).astype(np.float32), None, "real")
    assert resolve_likelihood("auto", colour) == "discretized_logistic"
    assert resolve_likelihood("auto", grey) == "bernoulli"
    assert resolve_likelihood("auto", unit_colour) == "continuous_bernoulli"  # colour is never binarized
    assert resolve_likelihood("auto", real) == "gaussian"
    assert resolve_likelihood("categorical256", colour) == "categorical256"


def test_a_colour_image_folder_is_never_binarized_by_default(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i, image in enumerate(colour_bytes(12)):
        Image.fromarray(image.transpose(1, 2, 0)).save(folder / f"{i}.png")
    run = train(data=str(folder), out=tmp_path / "run", epochs=1, device="cpu", latent_dim=2)
    assert run.config.model.likelihood.name == "discretized_logistic"
    assert run.data.binarize == "none"
    assert json.loads((tmp_path / "run" / "run.json").read_text())["data"]["binarize"] == "none"


@pytest.mark.parametrize("args, message", [
    (["--data", "digits", "--likelihood", "categorical256"], "outside the support of likelihood 'categorical256'"),
    (["--data", "digits", "--likelihood", "discretized_logistic", "--set", "model.channel_coupling=true"],
     "channel_coupling needs RGB images"),
    (["--data", "digits", "--likelihood", "discretized_logistic", "--set", "model.mixtures=0"],
     "model.likelihood.mixtures must be at least 1"),
])
def test_bad_discrete_settings_exit_2_with_one_line(args, message, tmp_path, capsys):
    assert main(["train", *args, "--epochs", "1", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_support_error_names_the_levels():
    likelihood = Categorical256((1, 2, 2))
    with pytest.raises(UserError, match="8-bit levels"):
        likelihood.check_support(torch.full((1, 1, 2, 2), 0.5), "categorical256", "half levels")
