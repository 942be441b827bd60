"""Data sources: every source becomes ``ArrayData``, one tensor that the trainer holds on its device.

``load_data(spec, config)`` picks the source from ``--data``: a registered name ('digits'),
'name:ARGUMENT' ('mnist:DIR', 'idx:DIR', 'fashion-mnist:DIR'), or a path (.npy, .npz, .csv,
an IDX folder, a folder of images). Sources register with ``SOURCES`` next to their loader.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import UserError
from . import digits, dsprites, idx, images, numpy_files, tables  # noqa: F401  (each registers its sources)
from .array import ArrayData, Splits, from_arrays  # noqa: F401  (the data types, for users of this package)
from .registry import SOURCES

SUFFIX_SOURCES = {".npy": "npy", ".npz": "npz", ".csv": "csv"}


def resolve(spec: str) -> tuple[str, str]:
    """(source name, argument) for a ``--data`` string."""
    name, sep, argument = spec.partition(":")
    if name in SOURCES:
        return name, argument
    path = Path(spec)
    if path.suffix.lower() in SUFFIX_SOURCES and SUFFIX_SOURCES[path.suffix.lower()] in SOURCES:
        return SUFFIX_SOURCES[path.suffix.lower()], spec
    if path.is_dir():
        return ("idx" if is_idx_folder(path) else "images"), spec
    if path.exists():
        raise UserError(f"{spec}: unsupported file type {path.suffix!r}; use .npy, .npz, .csv, an IDX folder or an image folder")
    known = ", ".join(SOURCES.names())
    raise UserError(f"--data {spec!r}: no such file or folder, and not a known data name; known names: {known}")


def is_idx_folder(path: Path) -> bool:
    """True when the folder holds IDX files: 'train-images-idx3-ubyte' or the 'train-images.idx3-ubyte' variant."""
    return any(path.glob("*-idx*")) or any(path.glob("*.idx[0-9]-ubyte*"))


def load_data(spec, config) -> Splits:
    """Splits(train, test) from a ``--data`` string or from arrays/tensors given in Python.

    ``spec`` may be a string, an array or tensor (N, ...) of inputs, or a tuple (inputs, labels).
    """
    if isinstance(spec, (np.ndarray, torch.Tensor)):
        return Splits(from_arrays(spec, None, "arrays passed to vaekit"), None)
    if isinstance(spec, tuple) and len(spec) == 2:
        return Splits(from_arrays(spec[0], spec[1], "arrays passed to vaekit"), None)
    if not isinstance(spec, str):
        raise UserError(f"data must be a --data string, an array/tensor or (inputs, labels), got {type(spec).__name__}")
    name, argument = resolve(spec)
    return SOURCES.get(name)(argument, config)
