"""The autoregressive prior over VQ-VAE codes: a normalised distribution, ancestral samples that follow
it, a fit that learns structure, and samples that decode to data of the model's shape."""

import itertools
import math

import pytest
import torch

from vaekit import ModelConfig, build_model
from vaekit.data.array import ArrayData
from vaekit.models.code_prior import CodePrior, fit_code_prior, fit_prior, mean_nll
from vaekit.seeding import seeded


def tiny_prior(codes: int = 3, positions: int = 2) -> CodePrior:
    torch.manual_seed(0)
    return CodePrior(torch.randn(codes, 2), positions, hidden=8)


def all_grids(codes: int, positions: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product(range(codes), repeat=positions)))  # (codes^positions, positions)


def test_the_code_prior_is_a_normalised_distribution_over_code_grids():
    prior = tiny_prior()
    with torch.no_grad():
        for parameter in prior.parameters():  # away from the near-uniform initialisation
            parameter.add_(torch.randn_like(parameter))
        log_p = prior.log_prob_codes(all_grids(3, 2))  # the 9 grids of a 1x2 grid with 3 codes
    assert log_p.logsumexp(0).item() == pytest.approx(0.0, abs=1e-5)
    assert log_p.std() > 0.1  # and not the uniform one


def test_ancestral_samples_follow_the_prior_and_temperature_zero_takes_the_likeliest_code():
    prior = tiny_prior()
    with torch.no_grad():
        for parameter in prior.parameters():
            parameter.add_(torch.randn_like(parameter))
        probabilities = prior.log_prob_codes(all_grids(3, 2)).exp()  # (9,)
    draws = prior.sample_codes(6000, generator=torch.Generator().manual_seed(0))  # (6000, 2)
    frequencies = torch.bincount(draws[:, 0] * 3 + draws[:, 1], minlength=9) / 6000
    torch.testing.assert_close(frequencies, probabilities, atol=0.025, rtol=0)
    greedy = prior.sample_codes(1, temperature=0)[0]
    with torch.no_grad():
        first = prior.logits(greedy[None])[0, 0]
    assert greedy[0] == first.argmax()


def test_vectors_and_codes_are_inverse_maps():
    prior = tiny_prior(codes=5, positions=4)
    codes = torch.randint(5, (7, 4), generator=torch.Generator().manual_seed(0))
    z = prior.vectors(codes)  # (7, 8)
    assert z.shape == (7, 8)
    assert torch.equal(prior.codes_of(z), codes)


def test_fitting_learns_a_dependence_between_positions():
    """Codes where the second always copies the first: the fit approaches log 4 nats, far below the
    2 log 4 of a prior that ignores the dependence."""
    first = torch.randint(4, (400,), generator=torch.Generator().manual_seed(0))
    codes = torch.stack([first, first], 1)  # (400, 2)
    prior = CodePrior(torch.randn(4, 2), 2, hidden=16)
    with seeded(0, "cpu"):
        history = fit_prior(prior, codes, epochs=30, batch_size=50, lr=1e-2)
    assert history[-1] < history[0]
    assert mean_nll(prior, codes) < math.log(4) + 0.3


def test_samples_of_a_fitted_vqvae_decode_to_images_of_the_data_shape():
    torch.manual_seed(0)
    config = ModelConfig(name="vqvae", trunk="conv", latent_dim=3, channels=(4, 6), likelihood="bernoulli",
                         codebook_size=8, code_prior_hidden=16)
    model = build_model(config, (1, 11, 9)).eval()  # odd sizes: a 3x3 code grid
    data = ArrayData((torch.rand(20, 1, 11, 9, generator=torch.Generator().manual_seed(0)) < 0.5).float(), None, "x")
    fit_code_prior(model, data, epochs=1)
    assert model.positions == 9 and model.prior.codebook.shape == (8, 3)
    samples = model.sample(4, temperature=0.5)
    assert samples.shape == (4, 1, 11, 9)
    assert ((samples >= 0) & (samples <= 1)).all()  # Bernoulli means
