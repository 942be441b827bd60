"""Shared fixtures: small configs that train in well under a second per epoch, and the exact oracle; one torch
thread for the whole session."""

import os

import oracles
import pytest
import torch
from helpers import use_one_thread

from vaekit import Config, build_model

use_one_thread(os.environ)  # here, at collection, before any test or the subprocess of one runs


@pytest.fixture
def small_config() -> Config:
    """A small MLP VAE on digits: 4 epochs of batch 64, no report at the end (tests of the report ask for it)."""
    return Config().replace(
        model={"trunk": {"hidden": [32]}, "latent_dim": 4},
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


@pytest.fixture
def vae():
    """A small float64 VAE: 3 latent dimensions, one hidden layer of 16, a unit Gaussian over 6 columns."""
    torch.manual_seed(0)
    return build_model({"latent_dim": 3, "trunk": {"hidden": [16]}, "likelihood": "gaussian"}, (6,)).double()
