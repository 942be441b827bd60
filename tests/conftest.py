"""Shared fixtures: small configs that train in well under a second per epoch, and the exact oracle."""

import oracles
import pytest
import torch

from vaekit import Config


@pytest.fixture
def small_config() -> Config:
    """A small MLP VAE on digits: 4 epochs of batch 64, no report at the end (tests of the report ask for it)."""
    return Config().replace(
        model={"hidden": [32], "latent_dim": 4},
        train={"epochs": 4, "batch_size": 64, "report": False},
    )


@pytest.fixture(scope="session")
def oracle() -> oracles.LinearGaussian:
    """The linear-Gaussian model with a closed-form log p(x) and posterior (see oracles.py)."""
    return oracles.linear_gaussian()


@pytest.fixture(scope="session")
def oracle_x(oracle) -> torch.Tensor:
    """(64, d) float64 draws from the oracle's p(x)."""
    return oracle.sample(64, seed=1)
