"""FactorVAE (objectives/factorvae.py): permuted codes keep each column and break the pairing, the trained
discriminator estimates the closed-form TC of Gaussian codes, and only its own step trains it."""

import math

import pytest
import torch
from helpers import SMALL_DISCRIMINATOR
from torch.distributions import Independent, Normal

from vaekit import ObjectiveConfig, build_objective
from vaekit.data.batch import Batch
from vaekit.objectives.factorvae import FactorVAE, permute_dims


def test_permuted_codes_keep_each_column_and_break_the_pairing():
    torch.manual_seed(0)
    z = torch.arange(200.0).view(100, 2)
    shuffled = permute_dims(z)
    for d in range(2):
        assert torch.equal(shuffled[:, d].sort().values, z[:, d])  # each column is a permutation of itself
    assert not torch.equal(shuffled[:, 0].argsort(), shuffled[:, 1].argsort())  # the columns move independently


class CodesModel:
    """A stand-in model whose posterior mean is the input itself: the codes are given directly."""

    def __init__(self):
        self.head = torch.nn.Module()
        self.head.linear = torch.nn.Linear(1, 4)  # latent_dim 2, as the Gaussian head would say

    def encode(self, x, labels=None):
        return Independent(Normal(x, torch.full_like(x, 1e-3)), 1)

    def decode(self, z, labels=None):
        return Independent(Normal(z, torch.ones_like(z)), 1)

    def prior_distribution(self, labels=None):
        return Independent(Normal(torch.zeros(2), torch.ones(2)), 1)


@pytest.mark.slow
@pytest.mark.parametrize("rho", [0.8, 0.0])
def test_the_trained_discriminator_estimates_the_closed_form_tc_of_gaussian_codes(rho):
    """Codes z ~ N(0, [[1, rho], [rho, 1]]) have TC = -log(1 - rho^2) / 2 (0.51 nats at 0.8, 0 at 0);
    after training on them, the discriminator's mean logit difference is close to it."""
    torch.manual_seed(0)
    objective = FactorVAE(gamma=1.0, discriminator_hidden=64, discriminator_layers=2, discriminator_lr=1e-3)
    objective.bind(CodesModel())
    root = torch.linalg.cholesky(torch.tensor([[1.0, rho], [rho, 1.0]]))
    for _ in range(1500):
        objective.step(objective(CodesModel(), Batch(torch.randn(256, 2) @ root.T)))
    with torch.no_grad():
        estimate = float(objective(CodesModel(), Batch(torch.randn(20000, 2) @ root.T)).terms["tc"].mean())
    assert estimate == pytest.approx(-0.5 * math.log(1 - rho**2), abs=0.1)


def test_the_vae_loss_does_not_train_the_discriminator_and_the_step_does(vae, x):
    objective = build_objective(ObjectiveConfig(name="factorvae", gamma=35.0, **SMALL_DISCRIMINATOR), vae)
    before = [p.clone() for p in objective.module.parameters()]
    output = objective(vae, Batch(x))
    output.loss.backward()
    assert all(p.grad is None for p in objective.module.parameters())
    assert vae.head.linear.weight.grad.abs().max() > 0
    objective.step(output)
    assert all(not torch.equal(a, b) for a, b in zip(before, objective.module.parameters()))
    # The logged loss is the discriminator's cross-entropy: log 2 for a discriminator that cannot tell.
    assert float(output.terms["discriminator_loss"].detach().mean()) == pytest.approx(math.log(2), abs=0.05)
