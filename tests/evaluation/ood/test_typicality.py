"""The typicality test on a model whose entropy is known in closed form: a standard normal in D dimensions."""

import math

import numpy as np
import pytest
from vaekit.errors import UserError
from vaekit.evaluation.ood import detection_metrics
from vaekit.evaluation.ood.typicality import entropy_estimate, typicality_scores

D = 50


def log_density(x: np.ndarray) -> np.ndarray:
    return -0.5 * (x**2).sum(1) - 0.5 * D * math.log(2 * math.pi)


def test_entropy_estimate_matches_the_closed_form():
    x = np.random.default_rng(0).standard_normal((4000, D))
    exact = 0.5 * D * math.log(2 * math.pi * math.e)
    standard_error = math.sqrt(D / 2 / 4000)  # Var(-log p) = D / 2 for a standard normal
    assert abs(entropy_estimate(log_density(x)) - exact) < 4 * standard_error


def test_the_batch_test_flags_inputs_at_the_mode_that_the_likelihood_prefers():
    rng = np.random.default_rng(1)
    entropy = entropy_estimate(log_density(rng.standard_normal((4000, D))))
    inside = -log_density(rng.standard_normal((500, D)))
    at_mode = -log_density(0.05 * rng.standard_normal((500, D)))  # the highest density there is, and atypical
    assert detection_metrics(inside, at_mode)["auroc"] < 0.01  # the likelihood ranks them as the most normal
    batches = detection_metrics(typicality_scores(inside, entropy, 10), typicality_scores(at_mode, entropy, 10))
    assert batches["auroc"] == 1.0


def test_per_example_form_is_the_batch_of_one():
    nll = np.array([3.0, 7.0, 5.0, 1.0])
    assert sorted(typicality_scores(nll, 4.0, 1)) == sorted(np.abs(nll - 4.0))


def test_too_few_examples_for_the_batch_test():
    with pytest.raises(UserError, match="batches of 10 examples and needs at least 2 batches.*15 examples has 1"):
        typicality_scores(np.zeros(15), 0.0, 10)
