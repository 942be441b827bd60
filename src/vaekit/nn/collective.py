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


class _GatherBatch(torch.autograd.Function):
    """all_gather along dim 0 whose backward returns this rank's rows of the summed gradient."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        ctx.rows = len(tensor)
        parts = [torch.empty_like(tensor) for _ in range(world_size())]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        # Every rank's loss may depend on these rows: their gradient is the sum over ranks
        # (all_reduce, which every backend has; gloo lacks reduce_scatter). torch's own
        # differentiable all_gather (torch.distributed.nn.functional) is deprecated, and its
        # suggested replacement is a private module.
        total = grad.contiguous().clone()
        dist.all_reduce(total)
        start = rank() * ctx.rows
        return total[start:start + ctx.rows]


def gather_batch(tensor: torch.Tensor) -> torch.Tensor:
    """The global batch (W * B, ...) from each rank's share (B, ...) of equal size, in rank order
    (rank r's rows at r * B): the contiguous shares of ``ShardedBatches`` put back together.

    Differentiable: the gradient reaching this rank's share is the sum of every rank's gradient
    for those rows, so that DDP's average of the ranks' gradients is the gradient one process
    holding the whole batch computes (an objective that couples the examples of a batch, such as
    beta-TCVAE's minibatch estimate of q(z), stays the same function of the global batch)."""
    if not active():
        return tensor
    return _GatherBatch.apply(tensor)


def share_offset(rows: int) -> int:
    """The index in the global batch of this rank's first row, for shares of ``rows`` rows."""
    return rank() * rows


def average_gradients(parameters) -> None:
    """Replaces each parameter's gradient by its mean over the ranks, in one collective (in place;
    parameters without a gradient are skipped, and must be the same on every rank): for a module
    outside DDP, such as an objective's own discriminator."""
    if not active():
        return
    grads = [parameter.grad for parameter in parameters if parameter.grad is not None]
    flat = torch.cat([grad.flatten() for grad in grads])
    dist.all_reduce(flat)
    flat /= world_size()
    for grad, part in zip(grads, flat.split([grad.numel() for grad in grads])):
        grad.copy_(part.view_as(grad))
