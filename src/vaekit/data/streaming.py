"""The streaming path: data decoded from files batch by batch, for folders too large for memory.

``StreamedData`` offers the part of ``ArrayData``'s interface that the trainer and evaluation use;
batches are decoded on the CPU (in DataLoader workers) and moved to the training device. Splits
that get binarised once (validation, test) become in-memory ``ArrayData``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field, replace

import torch

from ..errors import UserError
from .array import ArrayData

log = logging.getLogger("vaekit")

MEMORY_SHARE = 0.5  # stream when the uint8 data would take more than this share of available memory
SAMPLE = 1000  # examples decoded to check a streamed set's support (the rest are checked per batch by range)


def available_bytes(device: torch.device) -> int:
    """Free memory on ``device``: CUDA's free memory, or the host's MemAvailable."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0]
    try:
        with open("/proc/meminfo") as meminfo:
            fields = dict(line.split(":", 1) for line in meminfo)
        return int(fields["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def should_stream(mode: str, nbytes: int, device: torch.device, name: str) -> bool:
    """The data.stream setting resolved: 'always', 'never', or 'auto' (stream when it does not fit)."""
    if mode not in ("auto", "always", "never"):
        raise UserError(f"data.stream {mode!r} is not one of: auto, always, never")
    if mode != "auto":
        return mode == "always"
    budget = int(MEMORY_SHARE * available_bytes(device))
    if nbytes <= budget:
        return False
    log.info("%s: %.1f GB of data exceed the memory budget of %.1f GB on %s; streaming batches from the files",
             name, nbytes / 1e9, budget / 1e9, device)
    return True


@dataclass
class StreamedData:
    """N examples of a lazy dataset (``dataset.pixels(i)`` -> uint8 (C, H, W)), read on demand."""

    dataset: object
    index: torch.Tensor  # (N,) positions in ``dataset``
    name: str
    scale: torch.Tensor = field(default_factory=lambda: torch.tensor(1 / 255))
    shift: torch.Tensor = field(default_factory=lambda: torch.tensor(0.0))
    columns: None = None

    @property
    def labels(self) -> torch.Tensor | None:
        labels = getattr(self.dataset, "labels", None)
        return None if labels is None else labels[self.index]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.dataset.shape)

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3

    def __len__(self) -> int:
        return len(self.index)

    def pixels(self, positions: torch.Tensor) -> torch.Tensor:
        """uint8 (B, *shape) decoded from the files at ``positions`` (indices into this set)."""
        return torch.stack([self.dataset.pixels(int(i)) for i in self.index[positions]])

    def inputs(self, index: torch.Tensor | slice = slice(None)) -> torch.Tensor:
        positions = torch.arange(len(self))[index]
        return (self.pixels(positions).float() - self.shift) * self.scale

    def support_sample(self) -> torch.Tensor:
        return self.inputs(slice(0, SAMPLE))

    def decode_units(self, x: torch.Tensor) -> torch.Tensor:
        return x / self.scale.to(x.device) + self.shift.to(x.device)

    def subset(self, index: torch.Tensor) -> "StreamedData":
        return replace(self, index=self.index[index])

    def to(self, device) -> "StreamedData":
        return self  # stays on disk; batches move to the device as they are read

    def with_values(self, values: torch.Tensor, **changes) -> ArrayData:
        """An in-memory copy with new values (a split binarised once)."""
        return ArrayData(values, self.labels, self.name, **changes)


def streamed(dataset, name: str) -> StreamedData:
    return StreamedData(dataset, torch.arange(len(dataset)), name)
