"""One example from a file, as a model takes it: FILE.npy or an image file (what 'vaekit interpolate
--from-file' reads). Levels are read as the data sources read them, so a file of the training data's
kind gives the values training saw."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from .images import IMAGE_SUFFIXES, decode_image


def read_example(path: str | Path, shape: tuple[int, ...]) -> torch.Tensor:
    """A model input (*shape), float32: FILE.npy (as the npy source reads it: uint8 levels / 255, other
    numbers as they are; a leading axis of 1 is dropped) or an image file (grey for a one-channel
    shape, else RGB; levels / 255). A UserError names the file and the problem: missing, unreadable,
    another type, or a shape that does not fit ``shape``."""
    path, shape = Path(path), tuple(shape)
    if not path.is_file():
        raise UserError(f"{path}: no such file; pass FILE.npy or FILE.png")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        x = read_npy(path)
    elif suffix in IMAGE_SUFFIXES:
        channels = 1 if len(shape) == 3 and shape[0] == 1 else 3
        x = decode_image(path, channels).float() / 255  # (C, H, W)
    else:
        raise UserError(f"{path}: expected a .npy or .png file")
    if tuple(x.shape) == (1, *shape):
        x = x[0]
    if tuple(x.shape) != shape:
        raise UserError(f"{path}: an example of shape {tuple(x.shape)} does not fit this model's shape {shape}")
    return x


def read_npy(path: Path) -> torch.Tensor:
    try:
        values = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot read it as a .npy array ({exc})") from None
    return torch.as_tensor(values.astype(np.float32) / (255 if values.dtype == np.uint8 else 1))
