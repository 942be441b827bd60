"""Batch sources for the trainer.

``ResidentBatches`` is the fast path: the whole data set is one tensor on the training device
(uint8 when 8-bit), each epoch draws one permutation and takes batches by index; nothing per step
touches the host. Dynamic binarisation resamples each training batch from its grey levels.
"""

from __future__ import annotations

import math
from typing import Iterator

import torch

from .data.array import ArrayData


class ResidentBatches:
    """Batches (B, *shape) float32 on ``data``'s device, reshuffled each epoch from the torch RNG."""

    def __init__(self, data: ArrayData, batch_size: int, dynamic_binarize: bool = False):
        self.data, self.batch_size, self.dynamic_binarize = data, batch_size, dynamic_binarize

    def __len__(self) -> int:
        return math.ceil(len(self.data) / self.batch_size)

    def __iter__(self) -> Iterator[torch.Tensor]:
        order = torch.randperm(len(self.data), device=self.data.values.device)
        for index in order.split(self.batch_size):
            x = self.data.inputs(index)  # (B, *shape)
            yield torch.bernoulli(x) if self.dynamic_binarize else x


def fixed_batches(data: ArrayData, batch_size: int) -> Iterator[torch.Tensor]:
    """Batches in data order, for evaluation."""
    for start in range(0, len(data), batch_size):
        yield data.inputs(slice(start, start + batch_size))
