"""Binarisation of grey-level data in [0, 1] for Bernoulli likelihoods.

dynamic: training batches are resampled x_bin ~ Bernoulli(x) every time they are drawn;
         validation and test sets are binarised once with a fixed seed.
static:  every split is binarised once with a fixed seed.
none:    the data are used as they are (and must lie in the likelihood's support).
auto:    dynamic for the 'bernoulli' likelihood on data that are not already binary, else none.
"""

from __future__ import annotations

import torch

from ..errors import UserError
from .array import ArrayData

MODES = ("auto", "dynamic", "static", "none")


def is_binary(data: ArrayData) -> bool:
    x = data.support_sample()
    return bool(((x == 0) | (x == 1)).all())


def resolve_mode(mode: str, likelihood: str, data: ArrayData) -> str:
    if mode not in MODES:
        raise UserError(f"data.binarize {mode!r} is not one of {', '.join(MODES)}")
    if mode == "auto":
        return "dynamic" if likelihood == "bernoulli" and not is_binary(data) else "none"
    return mode


def _check_probabilities(x: torch.Tensor, name: str) -> None:
    if not bool(((x >= 0) & (x <= 1)).all()):
        raise UserError(
            f"{name}: binarisation needs values in [0, 1], got [{float(x.min()):g}, {float(x.max()):g}]; "
            "rescale the data to [0, 1] or choose a likelihood for real values (--likelihood gaussian)"
        )


def check_unit_interval(data: ArrayData) -> None:
    """Raise a UserError unless the inputs are probabilities that can be binarised."""
    _check_probabilities(data.support_sample(), data.name)


def binarize_once(data: ArrayData, seed: int) -> ArrayData:
    """Draw x_bin ~ Bernoulli(x) once with ``seed``; returns uint8 {0, 1} data with unit scale."""
    x = data.inputs()
    _check_probabilities(x, data.name)
    generator = torch.Generator(device=x.device).manual_seed(seed)
    bits = torch.bernoulli(x, generator=generator).to(torch.uint8)
    return data.with_values(bits, shift=torch.tensor(0.0), scale=torch.tensor(1.0))
