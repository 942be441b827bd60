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

    def __init__(self, data, batch_size: int, dynamic_binarize: bool, device: torch.device, workers: int = 2):
        super().__init__(data, batch_size, dynamic_binarize)
        self.device, self.workers = device, workers

    def __iter__(self) -> Iterator[torch.Tensor]:
        order = torch.randperm(len(self.data))
        loader = torch.utils.data.DataLoader(
            _BatchesOfFiles(self.data, order, self.batch_size), batch_size=None, num_workers=self.workers,
            pin_memory=self.device.type == "cuda",
        )
        for pixels in loader:
            x = (pixels.to(self.device, non_blocking=True).float() - self.data.shift) * self.data.scale
            yield torch.bernoulli(x) if self.dynamic_binarize else x
