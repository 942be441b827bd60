"""Codebook health in closed form: perplexity, usage and dead codes of given histograms, and the epoch
statistics of the codes a model chooses over the data."""

import math

import numpy as np
import pytest
import torch
from helpers import small_vqvae
from torch import nn

from vaekit.data.array import ArrayData
from vaekit.evaluation.codebook import codebook_evaluation, codebook_statistics, health, perplexity
from vaekit.evaluation.metrics import METRICS


@pytest.mark.parametrize("codes", [1, 4, 512])
def test_perplexity_of_uniform_use_is_the_number_of_codes(codes):
    assert perplexity(torch.full((codes,), 7)) == pytest.approx(codes)


def test_perplexity_of_one_code_is_one_and_of_two_thirds_one_third_is_exp_entropy():
    assert perplexity(torch.tensor([0, 9, 0, 0])) == pytest.approx(1.0)
    p = torch.tensor([2 / 3, 1 / 3], dtype=torch.float64)
    assert perplexity(torch.tensor([2, 1])) == pytest.approx(math.exp(float(-(p * p.log()).sum())))


def test_health_per_codebook_usage_dead_and_perplexity():
    one = health(torch.tensor([[2, 2, 0, 4]]))
    assert one == {"codebook_usage": 0.75, "codebook_perplexity": pytest.approx(perplexity(torch.tensor([2, 2, 4]))),
                   "codebook_dead": 1}
    two = health(torch.tensor([[1, 0, 0, 0], [1, 1, 1, 1]]))
    assert list(two) == ["codebook1_usage", "codebook1_perplexity", "codebook1_dead",
                         "codebook2_usage", "codebook2_perplexity", "codebook2_dead"]  # metrics.csv's column order
    assert (two["codebook1_usage"], two["codebook1_dead"], two["codebook2_perplexity"]) == (0.25, 3, pytest.approx(4.0))
    assert all(METRICS.get(name).keys(two) for name in ("codebook_usage", "codebook_perplexity", "codebook_dead"))


def test_a_model_without_codebooks_has_no_codebook_numbers():
    assert codebook_statistics(nn.Linear(2, 2), None) == {} and codebook_evaluation(nn.Linear(2, 2), None) == {}


def test_perplexity_is_the_exponential_of_the_entropy_of_the_code_histogram():
    assert perplexity(torch.tensor([5, 0, 0])) == pytest.approx(1.0)
    assert perplexity(torch.tensor([3, 3, 3, 3])) == pytest.approx(4.0)
    p = np.array([0.25, 0.25, 0.5])
    assert perplexity(torch.tensor([2, 2, 0, 4])) == pytest.approx(math.exp(-(p * np.log(p)).sum()))


def test_epoch_statistics_report_usage_and_perplexity_of_the_codes_chosen_over_the_data():
    model = small_vqvae(shape=(2,), trunk="mlp", code_positions=1, codebook_size=4, latent_dim=2, codebook_restart=0)
    model.encoder, model.head.project = nn.Identity(), nn.Unflatten(1, (1, 2))  # z_e = x, one position
    with torch.no_grad():
        model.quantizer.codebook.copy_(torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]]))
    x = torch.tensor([[0.1, 0.0], [0.0, 0.2], [9.0, 0.0], [10.0, 1.0], [9.0, 9.0], [10.0, 9.5], [11, 10], [10, 11]])
    statistics = codebook_statistics(model, ArrayData(x, None, "constructed"))  # codes 0, 0, 1, 1, 3, 3, 3, 3
    assert statistics["codebook_usage"] == pytest.approx(3 / 4)
    assert statistics["codebook_perplexity"] == pytest.approx(perplexity(torch.tensor([2, 2, 0, 4])))
    assert statistics["codebook_dead"] == 1
