"""The small trained run (latent_dim 4) that the latent tools' tests share, trained once per session."""

import pytest
from helpers import train_small_run

from vaekit.runs.open import open_run


@pytest.fixture(scope="session")
def opened(tmp_path_factory):
    """The latent_dim = 4 run's model and test split (359 examples)."""
    return open_run(train_small_run(tmp_path_factory, "latent4", latent_dim=4), "cpu")
