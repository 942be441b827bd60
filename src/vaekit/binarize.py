"""Binarisation of grey-level data in [0, 1] for Bernoulli likelihoods.

dynamic: training batches are resampled x_bin ~ Bernoulli(x) every time they are drawn;
         validation and test sets are binarised once with a fixed seed.
static:  every split is binarised once with a fixed seed.
none:    the data are used as they are (and must lie in the likelihood's support).
auto:    dynamic for the 'bernoulli' likelihood on data that are not already binary, else none.
"""

from __future__ import annotations

import torch

from .data.array import ArrayData
from .errors import UserError

MODES = ("auto", "dynamic", "static", "none")


def is_binary(data: ArrayData) -> bool:
    x = data.inputs()
    return bool(((x == 0) | (x == 1)).all())


def resolve_mode(mode: str, likelihood: str, data: ArrayData) -> str:
    if mode not in MODES:
        raise UserError(f"data.binarize {mode!r} is not one of {', '.join(MODES)}")
    if mode == "auto":
        return "dynamic" if likelihood == "bernoulli" and not is_binary(data) else "none"
    return mode


def check_unit_interval(data: ArrayData) -> torch.Tensor:
    """The model inputs (N, *shape), after checking they are probabilities to binarise with."""
    x = data.inputs()
    if not bool(((x >= 0) & (x <= 1)).all()):
        raise UserError(
            f"{data.name}: binarisation needs values in [0, 1], got [{float(x.min()):g}, {float(x.max()):g}]; "
            "rescale the data to [0, 1] or choose a likelihood for real values (--likelihood gaussian)"
        )
    return x


def binarize_once(data: ArrayData, seed: int) -> ArrayData:
    """Draw x_bin ~ Bernoulli(x) once with ``seed``; returns uint8 {0, 1} data with unit scale."""
    x = check_unit_interval(data)
    generator = torch.Generator(device=x.device).manual_seed(seed)
    bits = torch.bernoulli(x, generator=generator).to(torch.uint8)
    return data.with_values(bits, shift=torch.tensor(0.0), scale=torch.tensor(1.0))
