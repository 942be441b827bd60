"""The small trained runs (latent_dim 4 and 2) that the command tests share, trained once per session."""

from types import SimpleNamespace

import pytest
from helpers import train_small_run

from vaekit.runs.open import open_run


def trained(tmp_path_factory, name: str, latent_dim: int) -> SimpleNamespace:
    """run_dir, and the model and test split (359 examples) that the commands open."""
    run_dir = train_small_run(tmp_path_factory, name, latent_dim)
    opened = open_run(run_dir, "cpu")
    return SimpleNamespace(run_dir=run_dir, model=opened.model, data=opened.data)


@pytest.fixture(scope="session")
def opened(tmp_path_factory):
    return trained(tmp_path_factory, "commands4", latent_dim=4)


@pytest.fixture(scope="session")
def opened_2d(tmp_path_factory):
    return trained(tmp_path_factory, "commands2", latent_dim=2)
