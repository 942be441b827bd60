"""Seeded sections that leave the caller's random state as it was."""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch


@contextlib.contextmanager
def seeded(seed: int, device: torch.device | str) -> Iterator[None]:
    """Run the body with the CPU generator (and ``device``'s, if CUDA) seeded; restore both after.

    Only those generators are seeded: torch.manual_seed would also reseed every other GPU, which
    fork_rng does not restore."""
    device = torch.device(device)
    cuda = device.type == "cuda"
    with torch.random.fork_rng(devices=[device] if cuda else []):
        torch.random.default_generator.manual_seed(seed)
        if cuda:
            with torch.cuda.device(device):
                torch.cuda.manual_seed(seed)
        yield
