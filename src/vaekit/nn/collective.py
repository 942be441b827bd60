"""Collectives across the processes of a data-parallel run, as no-ops in a single process.

The model and objective code calls these where a statistic must be one of the whole global batch
(free bits, a VQ codebook's moving averages and restarts); outside ``torch.distributed`` (or with
one process) each returns its input, so single-process code paths are unchanged.
"""

from __future__ import annotations

import torch
import torch.distributed as dist


def world_size() -> int:
    """The number of processes in the default group; 1 outside torch.distributed."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    """This process's global rank; 0 outside torch.distributed."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def active() -> bool:
    """More than one process: collectives are needed."""
    return world_size() > 1


def sum_over_ranks(tensor: torch.Tensor) -> torch.Tensor:
    """The elementwise sum of ``tensor`` over all processes (a new tensor, no gradient)."""
    total = tensor.detach().clone()
    if active():
        dist.all_reduce(total)
    return total


def broadcast_from_first(tensor: torch.Tensor) -> torch.Tensor:
    """Rank 0's value of ``tensor`` on every process (a new tensor, no gradient)."""
    value = tensor.detach().clone()
    if active():
        dist.broadcast(value, src=0)
    return value


def object_from_first(value):
    """Rank 0's ``value`` (any picklable object) on every process."""
    if not active():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def global_batch_mean(values: torch.Tensor) -> torch.Tensor:
    """The mean over the global batch of per-example ``values`` (B, ...), shares of equal size B.

    Its value is the global mean on every rank; its gradient is that of the local sum times
    world_size / global B (= 1 / B), so that DDP's average of the ranks' gradients is the gradient
    of the global mean, as one process holding the whole batch would compute it."""
    if not active():
        return values.mean(0)
    local = values.sum(0)
    size = world_size()
    total = sum_over_ranks(local)
    return total / (size * len(values)) + (local - local.detach()) / len(values)
