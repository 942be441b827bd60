"""Batch sources for the trainer.

``ResidentBatches`` is the fast path: the whole data set is one tensor on the training device
(uint8 when 8-bit), each epoch draws one permutation and takes batches by index; nothing per step
touches the host. Dynamic binarisation resamples each training batch from its grey levels: for
8-bit levels v (scale 1/255) as ``u < v`` with u uniform on {0, ..., 254} drawn as uint8, which is
exactly Bernoulli(v / 255) and draws a quarter of the random bits of ``torch.bernoulli`` on floats
(about 3x faster on CPU, where the generator is serial); other data as ``uniform < x``.
Both draw from the torch generator, so a resumed run draws the same bits.
"""

from __future__ import annotations

import math
from typing import Iterator

import torch

from ..data.array import ArrayData


class ResidentBatches:
    """Batches (B, *shape) float32 on ``data``'s device, reshuffled each epoch from the torch RNG."""

    def __init__(self, data: ArrayData, batch_size: int, dynamic_binarize: bool = False, steps: int = 0):
        self.data, self.batch_size, self.dynamic_binarize = data, batch_size, dynamic_binarize
        self.steps = steps  # > 0: an epoch is the first ``steps`` batches of each epoch's permutation
        # Checked once (reading scalars syncs a GPU): 8-bit levels to binarise, or the identity map.
        self.levels = dynamic_binarize and is_8_bit(data)
        self.identity = is_identity(data)

    def __len__(self) -> int:
        full = math.ceil(len(self.data) / self.batch_size)
        return min(full, self.steps) if self.steps > 0 else full

    def epoch_order(self, device=None) -> torch.Tensor:
        """This epoch's example indices: a fresh permutation from the torch RNG, cut to ``steps`` batches."""
        order = torch.randperm(len(self.data), device=device)
        return order[: self.steps * self.batch_size] if self.steps > 0 else order

    def __iter__(self) -> Iterator[torch.Tensor]:
        order = self.epoch_order(self.data.values.device)
        for index in order.split(self.batch_size):
            yield self.take(index)

    def take(self, index: torch.Tensor) -> torch.Tensor:
        """The batch (B, *shape) of the examples at ``index`` (B,), binarised when dynamic."""
        self.index = index  # the examples of the batch being taken (a conditional model reads their labels)
        if self.levels:
            return binarize_levels(self.data.values.index_select(0, index))
        x = self.inputs(index)
        return binarize(x) if self.dynamic_binarize else x

    def inputs(self, index: torch.Tensor) -> torch.Tensor:
        """``data.inputs(index)``, the same values: index_select (several times faster than
        indexing on CPU) and no shift or scale where they are 0 and 1 (binary data)."""
        if self.identity:
            return self.data.values.index_select(0, index).float()
        return self.data.inputs(index)


def is_8_bit(data) -> bool:
    """uint8 values that map to v / 255 (no shift): the grey levels of 8-bit images."""
    values = getattr(data, "values", None)  # the streaming path decodes files instead
    return (
        values is not None and values.dtype == torch.uint8
        and data.shift.numel() == 1 and float(data.shift) == 0.0
        and data.scale.numel() == 1 and float(data.scale) == float(torch.tensor(1 / 255))
    )


def is_identity(data) -> bool:
    """Model inputs equal the stored values as float32: shift 0 and scale 1 everywhere."""
    values = getattr(data, "values", None)
    return (
        values is not None and values.dtype in (torch.uint8, torch.float32)
        and bool((data.shift == 0).all()) and bool((data.scale == 1).all())
    )


def binarize_levels(values: torch.Tensor) -> torch.Tensor:
    """x ~ Bernoulli(values / 255) for uint8 levels, as float32 {0, 1}: P(u < v) = v / 255 for u
    uniform on {0, ..., 254}."""
    u = torch.randint(0, 255, values.shape, dtype=torch.uint8, device=values.device)
    return (u < values).float()


def binarize(x: torch.Tensor) -> torch.Tensor:
    """x ~ Bernoulli(x) for probabilities x, as {0, 1} in x's dtype."""
    return (torch.rand_like(x) < x).to(x.dtype)


class _BatchesOfFiles(torch.utils.data.Dataset):
    """Item i is the uint8 batch i of a fixed order, decoded by a DataLoader worker."""

    def __init__(self, data, order: torch.Tensor, batch_size: int):
        self.data, self.chunks = data, order.split(batch_size)

    def __len__(self) -> int:
        return len(self.chunks)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.data.pixels(self.chunks[i])


class StreamingBatches(ResidentBatches):
    """The streaming path: the per-epoch order comes from the torch RNG as on the fast path, and
    DataLoader workers decode the files of each batch while the model trains on the previous one."""

    def __init__(self, data, batch_size: int, dynamic_binarize: bool, device: torch.device, workers: int = 2,
                 steps: int = 0):
        super().__init__(data, batch_size, dynamic_binarize, steps)
        self.device, self.workers = device, workers

    def __iter__(self) -> Iterator[torch.Tensor]:
        order = self.epoch_order()
        loader = torch.utils.data.DataLoader(
            _BatchesOfFiles(self.data, order, self.batch_size), batch_size=None, num_workers=self.workers,
            pin_memory=self.device.type == "cuda",
        )
        for pixels in loader:
            x = (pixels.to(self.device, non_blocking=True).float() - self.data.shift) * self.data.scale
            yield binarize(x) if self.dynamic_binarize else x
