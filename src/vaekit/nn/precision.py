"""Mixed precision: the trunks may run in bfloat16 under autocast (``train.precision=bf16``), while
every probability term (posterior and likelihood parameters, log-probabilities, KL) stays float32."""

from __future__ import annotations

import contextlib

import torch

from ..errors import UserError

PRECISIONS = ("fp32", "bf16")


def check_precision(name: str) -> None:
    if name not in PRECISIONS:
        raise UserError(f"train.precision {name!r} is not one of: {', '.join(PRECISIONS)} (bf16: autocast for "
                        "the trunks on a GPU; probabilities stay float32)")


def autocast(name: str, device: torch.device):
    """The context a training step runs in: bfloat16 autocast for ``bf16``, nothing for ``fp32``."""
    check_precision(name)
    if name == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def at_least_float32(x: torch.Tensor) -> torch.Tensor:
    """x in float32 when autocast gave it a 16-bit float type; x itself otherwise (float64 stays float64)."""
    return x.float() if x.dtype in (torch.bfloat16, torch.float16) else x


def full_precision(like: torch.Tensor):
    """Autocast off for the body (where a head or likelihood turns features into a distribution),
    so its layers and everything computed from it run in float32; nothing when autocast is off."""
    if torch.is_autocast_enabled(like.device.type):
        return torch.autocast(like.device.type, enabled=False)
    return contextlib.nullcontext()
