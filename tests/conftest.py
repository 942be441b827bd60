"""Shared fixtures: small configs that train in well under a second per epoch."""

import pytest

from vaekit import Config


@pytest.fixture
def small_config() -> Config:
    """A small MLP VAE on digits: 4 epochs of batch 64, no report at the end (tests of the report ask for it)."""
    return Config().replace(
        model={"hidden": [32], "latent_dim": 4},
        train={"epochs": 4, "batch_size": 64, "report": False},
    )
