"""Data shared by the objectives' tests (a file may define its own ``x`` instead)."""

import pytest
import torch


@pytest.fixture
def x():
    """(32, 6) float64 inputs, standard normal, from a generator seeded 1."""
    return torch.randn(32, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
