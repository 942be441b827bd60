"""A batch is a value: the inputs, and the class labels and positions of the examples in it.

Everything that feeds a model, training or evaluation, hands it a ``Batch``; a conditional model
gets ``batch.labels`` as an argument, so no call depends on state set around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import torch


@dataclass(frozen=True)
class Batch:
    """x: (B, *data_shape) float32 model inputs (binarised, scaled or standardised as the model sees
    them). labels: (B,) int64 class indices, or None when the model takes none. index: (B,) int64
    positions of the examples in their split, or None where the order is plain data order."""

    x: torch.Tensor
    labels: torch.Tensor | None = None
    index: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.x.shape[0]

    def head(self, n: int) -> "Batch":
        """The first n examples of the batch (all of it when it has fewer)."""
        return Batch(self.x[:n], *(None if t is None else t[:n] for t in (self.labels, self.index)))


def split_batches(data, batch_size: int, like: torch.Tensor, labels: torch.Tensor | None = None) -> Iterator[Batch]:
    """The batches of ``data`` in data order (evaluation): x (B, *shape) on the device and in the dtype
    of ``like``; ``labels`` (N,), the split's labels for a conditional model (else None), sliced alike.

    ``data``: an ``ArrayData`` or anything with its reading interface (len, inputs(slice))."""
    if labels is not None:
        labels = labels.to(like.device)
    for start in range(0, len(data), batch_size):
        x = data.inputs(slice(start, start + batch_size)).to(device=like.device, dtype=like.dtype)
        yield Batch(x, None if labels is None else labels[start : start + batch_size])
