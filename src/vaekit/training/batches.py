"""Training batches: one factory, ``training_batches``, makes every training batch as a ``Batch``.

Three strategies share the work of turning an epoch's order into batches; each yields
``Batch(x, labels, index)``, and the labels of a conditional model are attached in one place,
``ResidentBatches.batch``, from the positions of the batch's examples.

``ResidentBatches`` is the fast path: the whole data set is one tensor on the training device
(uint8 when 8-bit), each epoch draws one permutation and takes batches by index; nothing per step
touches the host. ``StreamingBatches`` draws the same order and has DataLoader workers decode the
files. ``ShardedBatches`` gives one rank of a data-parallel run its share of each global batch.

Dynamic binarisation resamples each training batch from its grey levels: for
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
from ..data.batch import Batch
from ..data.streaming import StreamedData
from ..errors import UserError
from ..nn import collective


def training_batches(data, batch_size: int, device: torch.device, *, dynamic_binarize: bool = False,
                     steps: int = 0, labels: torch.Tensor | None = None, sharded: bool = False,
                     seed: int = 0) -> "ResidentBatches":
    """The batches of one training run over ``data`` (the training split), each a ``Batch``.

    ``batch_size``: the global batch. ``labels`` (N,): the split's labels for a conditional model, else
    None. ``steps`` > 0 cuts each epoch to that many batches. ``sharded``: this rank's shares under
    torch.distributed, whose permutations are seeded with (``seed``, epoch) (data in memory only: the
    caller refuses streamed data first); else data streamed from files takes the streaming path and data
    held in memory the fast one."""
    if isinstance(data, StreamedData):  # decoded from the files batch by batch; its order is on the CPU
        return StreamingBatches(data, batch_size, dynamic_binarize, device, steps=steps, labels=labels)
    if labels is not None:
        labels = labels.to(data.values.device)  # once: each step selects its labels where its index lives
    if sharded:
        return ShardedBatches(data, batch_size, dynamic_binarize, seed, steps=steps, labels=labels)
    return ResidentBatches(data, batch_size, dynamic_binarize, steps, labels=labels)


class ResidentBatches:
    """Batches (B, *shape) float32 on ``data``'s device, reshuffled each epoch from the torch RNG."""

    def __init__(self, data: ArrayData, batch_size: int, dynamic_binarize: bool = False, steps: int = 0,
                 labels: torch.Tensor | None = None):
        self.data, self.batch_size, self.dynamic_binarize = data, batch_size, dynamic_binarize
        self.steps = steps  # > 0: an epoch is the first ``steps`` batches of each epoch's permutation
        self.labels = labels  # (N,) on the device the batches' index lives on, or None
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

    def __iter__(self) -> Iterator[Batch]:
        order = self.epoch_order(self.data.values.device)
        for index in order.split(self.batch_size):
            yield self.take(index)

    def take(self, index: torch.Tensor) -> Batch:
        """The batch of the examples at ``index`` (B,), binarised when dynamic."""
        if self.levels:
            return self.batch(binarize_levels(self.data.values.index_select(0, index)), index)
        x = self.inputs(index)
        return self.batch(binarize(x) if self.dynamic_binarize else x, index)

    def batch(self, x: torch.Tensor, index: torch.Tensor) -> Batch:
        """``Batch`` of inputs x (B, *shape) at positions ``index`` (B,), with their labels when given."""
        if self.labels is None:
            return Batch(x, None, index)
        return Batch(x, self.labels.index_select(0, index.to(self.labels.device)).to(x.device), index)

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
                 steps: int = 0, labels: torch.Tensor | None = None):
        super().__init__(data, batch_size, dynamic_binarize, steps, labels)
        self.device, self.workers = device, workers

    def __iter__(self) -> Iterator[Batch]:
        order = self.epoch_order()
        loader = torch.utils.data.DataLoader(
            _BatchesOfFiles(self.data, order, self.batch_size), batch_size=None, num_workers=self.workers,
            pin_memory=self.device.type == "cuda",
        )
        for pixels, index in zip(loader, order.split(self.batch_size)):
            x = (pixels.to(self.device, non_blocking=True).float() - self.data.shift) * self.data.scale
            yield self.batch(binarize(x) if self.dynamic_binarize else x, index)


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of an epoch's permutation: one number per (seed, epoch), the same on every rank."""
    return (seed * 1_000_003 + epoch) % (2**63)


class ShardedBatches(ResidentBatches):
    """This rank's shares of each global batch: (B / W, *shape) float32 on the data's device.

    ``batch_size`` is the share (B / W), the size of every full step; set ``epoch`` before each pass.
    ``steps`` > 0 (train.steps_per_epoch): an epoch is the first ``steps`` global batches of its permutation.
    """

    def __init__(self, data, global_batch_size: int, dynamic_binarize: bool, seed: int,
                 rank: int | None = None, world: int | None = None, steps: int = 0,
                 labels: torch.Tensor | None = None):
        self.rank = collective.rank() if rank is None else rank
        self.world = collective.world_size() if world is None else world
        if global_batch_size % self.world:
            raise UserError(f"train.batch_size {global_batch_size} is the global batch and must be a multiple of the "
                            f"{self.world} processes; use e.g. --batch-size {global_batch_size - global_batch_size % self.world or self.world}")
        super().__init__(data, global_batch_size // self.world, dynamic_binarize, steps, labels)
        self.global_batch_size, self.seed, self.epoch = global_batch_size, seed, 0

    def __len__(self) -> int:
        full, rest = divmod(len(self.data), self.global_batch_size)
        count = full + (rest >= self.world)
        return min(count, self.steps) if self.steps > 0 else count

    def order(self, epoch: int) -> torch.Tensor:
        """(N,) int64: the epoch's permutation of the examples, the same on every rank (drawn on the CPU)."""
        generator = torch.Generator().manual_seed(epoch_seed(self.seed, epoch))
        return torch.randperm(len(self.data), generator=generator)

    def shares(self, epoch: int) -> list[torch.Tensor]:
        """This rank's index tensor of each step: its contiguous share of each global batch."""
        shares = []
        order = self.order(epoch)
        if self.steps > 0:
            order = order[: self.steps * self.global_batch_size]
        for batch in order.split(self.global_batch_size):
            size = len(batch) // self.world  # the last batch loses its len % W trailing examples
            if size:
                shares.append(batch[self.rank * size:(self.rank + 1) * size])
        return shares

    def __iter__(self) -> Iterator[Batch]:
        device = self.data.values.device
        for index in self.shares(self.epoch):
            yield self.take(index.to(device))
