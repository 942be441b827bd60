"""The in-memory data set: one tensor of raw values plus the affine map to model inputs."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterator

import numpy as np
import torch

from ..errors import UserError
from .batch import split_batches
from .factors import FactorInfo


@dataclass
class ArrayData:
    """N examples held as one tensor.

    values: (N, *shape) raw values; uint8 for 8-bit data (4x less memory, converted per batch).
    shift, scale: model input = (values - shift) * scale; scalars for images, (F,) per column for
    standardised tables. ``decode_units`` inverts it, so decoded rows come back in original units.
    labels: (N,) int64 or None. name: where the data came from, for messages.
    columns: column names of a table, else None. classes: names of the labels, else None.
    factors: (N, K) int64 ground-truth factor codes (on the CPU) or None; factor_info: what they mean
    (``vaekit.data.factors.FactorInfo``). A subset keeps its rows' codes but is no longer full factorial.
    """

    values: torch.Tensor
    labels: torch.Tensor | None
    name: str
    shift: torch.Tensor = field(default_factory=lambda: torch.tensor(0.0))
    scale: torch.Tensor = field(default_factory=lambda: torch.tensor(1.0))
    columns: list[str] | None = None
    classes: list[str] | None = None  # the name of each label 0..L-1, when the source names them
    factors: torch.Tensor | None = None
    factor_info: FactorInfo | None = None

    def __post_init__(self):
        if self.labels is not None and len(self.labels) != len(self.values):
            raise UserError(
                f"{self.name}: {len(self.values)} examples but {len(self.labels)} labels; "
                "the inputs and labels must have one entry per example"
            )
        if self.values.is_floating_point() and not bool(torch.isfinite(self.values).all()):
            bad = int((~torch.isfinite(self.values)).flatten(1).any(1).sum())
            raise UserError(f"{self.name}: {bad} example(s) contain NaN or Inf values; clean or drop them first")
        if self.factors is not None and len(self.factors) != len(self.values):
            raise UserError(f"{self.name}: {len(self.values)} examples but {len(self.factors)} rows of factors; "
                            "save one row of factor codes per example")

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of one example, without the batch dimension."""
        return tuple(self.values.shape[1:])

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3

    def __len__(self) -> int:
        return len(self.values)

    def inputs(self, index: torch.Tensor | slice = slice(None)) -> torch.Tensor:
        """Model inputs (B, *shape) float32 for the examples at ``index``."""
        return (self.values[index].float() - self.shift) * self.scale

    def support_sample(self) -> torch.Tensor:
        """The inputs checked against a likelihood's support (elementwise: binary, in [0, 1], finite):
        all of them for in-memory data; for large 8-bit data each stored level once, as a flat tensor
        (L,), since a float copy of every pixel would take 4x their memory (dSprites: 12 GB)."""
        if self.values.dtype != torch.uint8 or self.values.numel() <= LEVELS_ABOVE or self.shift.numel() > 1:
            return self.inputs()
        return (stored_levels(self.values).float() - self.shift) * self.scale

    def decode_units(self, x: torch.Tensor) -> torch.Tensor:
        """Model-space values (B, *shape) back to the data's original units."""
        return x / self.scale.to(x.device) + self.shift.to(x.device)

    def subset(self, index: torch.Tensor) -> "ArrayData":
        labels = None if self.labels is None else self.labels[index]
        if self.factors is None:
            return replace(self, values=self.values[index], labels=labels)
        factor_info = replace(self.factor_info, full_factorial=False)  # the rows no longer enumerate every combination
        return replace(self, values=self.values[index], labels=labels, factors=self.factors[index], factor_info=factor_info)

    def to(self, device) -> "ArrayData":
        labels = None if self.labels is None else self.labels.to(device)
        return replace(
            self, values=self.values.to(device), labels=labels, shift=self.shift.to(device), scale=self.scale.to(device)
        )

    def with_values(self, values: torch.Tensor, **changes) -> "ArrayData":
        return replace(self, values=values, **changes)


LEVELS_ABOVE = 2**24  # uint8 values with more elements than this are checked by their distinct levels


def stored_levels(values: torch.Tensor) -> torch.Tensor:
    """(L,) uint8: the distinct values of a uint8 tensor, in increasing order; min and max alone
    when they are at most 1 apart (binary data, 4x cheaper than counting every level)."""
    low, high = int(values.min()), int(values.max())
    if high - low <= 1:
        return torch.tensor(sorted({low, high}), dtype=torch.uint8)
    counts = torch.bincount(values.reshape(-1), minlength=256)
    return torch.nonzero(counts).flatten().to(torch.uint8)


@dataclass
class Splits:
    """A source's training data and, when the source has one, its own test split."""

    train: ArrayData
    test: ArrayData | None


def as_tensor(array, name: str) -> torch.Tensor:
    """uint8 stays uint8 (8-bit data, scaled later); every other numeric dtype becomes float32."""
    try:
        tensor = array.detach().cpu() if isinstance(array, torch.Tensor) else torch.as_tensor(np.asarray(array))
    except (TypeError, ValueError) as exc:
        raise UserError(f"{name}: cannot read the values as numbers ({exc}); pass a numeric array") from None
    if tensor.dtype in (torch.uint8, torch.bool):
        return tensor.to(torch.uint8)
    if tensor.dtype.is_complex:
        raise UserError(f"{name}: complex values are not supported; pass real numbers")
    return tensor.float()


def from_arrays(inputs, labels, name: str) -> ArrayData:
    """ArrayData from in-memory inputs (N, ...) and optional labels (N,).

    uint8 inputs are 8-bit levels, scaled by 1/255; bool inputs are stored as uint8 {0, 1} with unit scale.
    """
    is_bool = str(getattr(inputs, "dtype", "")) in ("bool", "torch.bool")  # before as_tensor turns bool into uint8
    values = as_tensor(inputs, name)
    if values.ndim < 2:
        raise UserError(f"{name}: expected inputs of shape (N, features) or (N, C, H, W), got {tuple(values.shape)}")
    if values.numel() == 0:  # every source that builds arrays comes through here; a reshape would fail later
        what = "no examples" if len(values) == 0 else "examples of no values"
        raise UserError(f"{name}: inputs of shape {tuple(values.shape)} hold {what}; give at least one example "
                        "with at least one value")
    label_tensor = None if labels is None else torch.as_tensor(np.asarray(labels)).long().flatten()
    scale = torch.tensor(1 / 255 if values.dtype == torch.uint8 and not is_bool else 1.0)
    return ArrayData(values, label_tensor, name, scale=scale)


def holds_8_bit_levels(data) -> bool:
    """Whether ``data`` (in memory or streamed) holds 8-bit levels v = 0..255 that the model sees as v / 255."""
    values = getattr(data, "values", None)  # None for streamed data: decoded from 8-bit image files
    return (
        (values is None or values.dtype == torch.uint8)
        and data.shift.numel() == 1 and float(data.shift) == 0.0
        and data.scale.numel() == 1 and abs(float(data.scale) * 255 - 1) < 1e-6
    )


def batches(data: ArrayData, batch_size: int, like: torch.Tensor) -> Iterator[torch.Tensor]:
    """The inputs x (B, *shape) of ``split_batches(data, batch_size, like)``, for passes that need no labels.

    ``data``: an ``ArrayData`` or anything with its reading interface (len, inputs(slice))."""
    for batch in split_batches(data, batch_size, like):
        yield batch.x
