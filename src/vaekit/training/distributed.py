"""Data-parallel training on torch.distributed (DDP), launched by ``torchrun`` or ``vaekit train --devices N``.

Every process (rank) holds the whole model and the whole data set; what makes the result the same
whatever the number of processes W:

- Batches: each epoch's permutation comes from a generator seeded with (seed, epoch), the same on
  every rank; step s takes global batch s (train.batch_size examples) and rank r its contiguous
  share of it. The last, partial global batch is cut to a multiple of W (at most W - 1 examples
  sit that epoch out), so every rank's share has one size and no collective waits for a missing
  rank. Noise (the posterior's samples, dynamic binarisation) comes from per-rank streams.
- Gradients: the objective runs inside the forward of one module (``StepModule``) that DDP wraps,
  so its hooks see the whole pass and average the gradients of equal shares: the gradient of the
  global batch's mean loss. Statistics of the global batch (free bits, a VQ codebook's averages)
  are summed over the ranks inside the model and objective (``vaekit.nn.collective``).
- Metrics: per-epoch sums and counts are summed over the ranks in one collective, which also
  carries the non-finite check: a NaN on one rank stops every rank at the same point. Validation
  is sharded (``vaekit.evaluation.likelihood.sharded_mean_terms``); rank 0 decides early stopping
  and broadcasts it.
- Files: only global rank 0 writes; the checkpoint holds every rank's RNG state.

Processes join through torchrun's environment (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR,
MASTER_PORT, init ``env://``), or the init method in ``VAEKIT_DIST_INIT`` (e.g. ``file:///shared/x``);
``VAEKIT_DIST_TIMEOUT`` (seconds, default 1800) bounds the rendezvous and every collective.
Backend nccl on CUDA, each rank on its LOCAL_RANK GPU; gloo on CPU.
"""

from __future__ import annotations

import datetime
import logging
import os
from typing import Callable

import torch
import torch.distributed as dist
from torch import nn

from ..data.batch import Batch
from ..errors import UserError
from ..evaluation.likelihood import sharded_mean_terms
from ..nn.collective import broadcast_from_first, object_from_first, rank, sum_over_ranks, world_size
from ..nn.precision import autocast
from ..objectives import Output
from .batches import ShardedBatches, epoch_seed  # noqa: F401  (re-exported: the sharded batches' old home)
from .trainer import Trainer, step_record

INIT_VARIABLE, TIMEOUT_VARIABLE = "VAEKIT_DIST_INIT", "VAEKIT_DIST_TIMEOUT"
DEFAULT_TIMEOUT = 1800  # seconds: torch's own default for gloo; rank 0 may write a report while the others wait
log = logging.getLogger("vaekit")


# --- joining and leaving --------------------------------------------------------------------------


def launched() -> bool:
    """Whether this process was started as one rank of a group (torchrun sets RANK and WORLD_SIZE)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def joined() -> bool:
    """Whether this process is in a torch.distributed group (training then takes the DDP path)."""
    return dist.is_available() and dist.is_initialized()


def is_first() -> bool:
    """Global rank 0, the one process that writes files and prints (True outside a group)."""
    return rank() == 0


def environment() -> tuple[int, int, int]:
    """(rank, local rank, world size) from the launcher's environment; a UserError when malformed."""
    try:
        values = [int(os.environ[name]) for name in ("RANK", "WORLD_SIZE")]
        local = int(os.environ.get("LOCAL_RANK", values[0]))
    except ValueError:
        raise UserError("RANK, LOCAL_RANK and WORLD_SIZE must be integers, as torchrun sets them") from None
    global_rank, size = values
    if size < 1 or not 0 <= global_rank < size:
        raise UserError(f"WORLD_SIZE={size} and RANK={global_rank}: need WORLD_SIZE >= 1 and 0 <= RANK < WORLD_SIZE")
    return global_rank, local, size


def join(device: torch.device) -> torch.device:
    """Join the group the launcher describes (once; a no-op outside a launcher) and return this
    rank's device: on CUDA the LOCAL_RANK-th GPU. Raises a UserError, before anything is written,
    when the rendezvous cannot be reached or the GPUs are too few."""
    if not launched():
        return device
    global_rank, local, size = environment()
    if device.type == "cuda":
        if local >= torch.cuda.device_count():
            raise UserError(f"LOCAL_RANK={local} needs GPU {local}, but this node has {torch.cuda.device_count()}; "
                            "start at most one process per GPU (--nproc-per-node)")
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
    if not joined():
        start_group("nccl" if device.type == "cuda" else "gloo", global_rank, size)
    return device


def start_group(backend: str, global_rank: int, size: int, init_method: str | None = None) -> None:
    """init_process_group with vaekit's timeout, turning a failed rendezvous into a UserError."""
    init_method = init_method or os.environ.get(INIT_VARIABLE, "env://")
    try:
        seconds = float(os.environ.get(TIMEOUT_VARIABLE, DEFAULT_TIMEOUT))
    except ValueError:
        raise UserError(f"{TIMEOUT_VARIABLE} must be a number of seconds") from None
    where = init_method
    if init_method == "env://":
        where = f"{os.environ.get('MASTER_ADDR', '(MASTER_ADDR unset)')}:{os.environ.get('MASTER_PORT', '(MASTER_PORT unset)')}"
    try:
        dist.init_process_group(backend, init_method=init_method, rank=global_rank, world_size=size,
                                timeout=datetime.timedelta(seconds=seconds))
    except (RuntimeError, ValueError, TimeoutError) as exc:  # DistStoreError and DistNetworkError are RuntimeErrors
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"rank {global_rank} of {size} could not join the process group at {where} within "
                        f"{seconds:g} s ({first_line}); start every rank with torchrun (or vaekit train --devices N) "
                        f"and check --rdzv-endpoint / MASTER_ADDR:MASTER_PORT") from None


def leave() -> None:
    """Leave the group, if in one (the command line does this when a command ends)."""
    if joined():
        dist.destroy_process_group()


def barrier() -> None:
    if joined():
        dist.barrier()


def on_first(make: Callable[[], object]) -> object:
    """``make()`` on rank 0 only, its result (a picklable value) on every rank; a UserError raised
    by rank 0 is raised on every rank, so no rank waits for one that has stopped."""
    outcome = None
    if is_first():
        try:
            outcome = ("ok", make())
        except UserError as exc:
            outcome = ("error", str(exc))
    status, value = object_from_first(outcome)
    if status == "error":
        raise UserError(value)
    return value


# --- batches --------------------------------------------------------------------------------------


# --- the trainer ----------------------------------------------------------------------------------


class StepModule(nn.Module):
    """The objective on one batch as one module's forward, so that DDP's hooks see the whole pass.
    An objective that is itself a module (one with parameters) becomes a submodule, and DDP
    averages its gradients too."""

    def __init__(self, model: nn.Module, objective):
        super().__init__()
        self.model, self.objective = model, objective

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None, beta: float):
        output = self.objective(self.model, Batch(x, labels), beta=beta)
        return output.loss, output.terms, step_record(output)


def wrap(module: nn.Module, device: torch.device) -> nn.Module:
    """DDP around ``module``; buffers are not broadcast, since the model keeps them equal itself.
    The gradients are views into DDP's communication buckets, which saves a copy of every gradient
    per step (the optimiser steps the same tensors)."""
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=ids, broadcast_buffers=False,
                                               gradient_as_bucket_view=True)


class DistributedTrainer(Trainer):
    """``Trainer`` for one rank of a group: the DDP forward, summed epoch metrics, sharded
    validation and one early-stopping decision. Batches: ``ShardedBatches``."""

    def prepare_compile(self, batches) -> None:
        """Compile the inner module where it pays (as ``Trainer`` decides), then wrap it in DDP."""
        super().prepare_compile(batches)
        if getattr(self, "ddp", None) is None:
            device = next(self.model.parameters()).device
            inner = StepModule(self.model, self.objective)
            if self.compile:
                mode = "reduce-overhead" if device.type == "cuda" else None  # CUDA graphs for small models
                inner = torch.compile(inner, dynamic=False, mode=mode)
            self.ddp = wrap(inner, device)

    def forward(self, batch: Batch, beta: float, full: bool) -> tuple[Output, torch.Tensor]:
        with autocast(getattr(self.config, "precision", "fp32"), batch.x.device):
            if self.compile and not self.warmed:
                self.warm_up(batch.head(2), beta)
            loss, terms, record = self.ddp(batch.x, batch.labels, beta)
            return Output(loss, terms), record

    def train_epoch(self, batches, on_step) -> dict:
        batches.epoch = self.state.epoch  # the epoch's permutation is seeded with (seed, epoch)
        return super().train_epoch(batches, on_step)

    def reduce_epoch(self, records: torch.Tensor, n: int) -> tuple[torch.Tensor, int]:
        """Sums over the ranks, in one collective: each step's loss (a NaN on any rank makes the
        sum NaN, so every rank stops at the same step) and term sums, and the example count."""
        local = torch.cat([records.double().flatten(), torch.tensor([float(n)], dtype=torch.float64,
                                                                     device=records.device)])
        total = sum_over_ranks(local)
        return total[:-1].view(records.shape), int(total[-1])

    def validation_terms(self, val_data) -> dict[str, float]:
        return sharded_mean_terms(self.model, val_data, k=0, batch_size=1024, seed=0)

    def validate(self, row: dict, val_data) -> bool:
        """As ``Trainer.validate`` on the sharded numbers; rank 0's stopping decision is every rank's."""
        improved = super().validate(row, val_data)
        flags = torch.tensor([float(improved), float(self.state.stopped_early)])
        improved, stopped = broadcast_from_first(flags).bool().tolist()
        self.state.stopped_early = stopped
        return improved


# --- random state ---------------------------------------------------------------------------------


def rank_seed(seed: int) -> int:
    """The seed of this rank's own noise stream; rank 0 keeps the run's seed."""
    return seed if rank() == 0 else (seed * 1_000_003 + 7919 * rank()) % (2**63)


def split_streams(seed: int, device: torch.device) -> None:
    """Give each rank its own noise stream (sampling, dynamic binarisation) after the model is built
    with the shared seed; rank 0's stream is the run's own."""
    if rank() != 0:
        split_streams_at(rank_seed(seed), device)


def split_streams_at(seed: int, device: torch.device) -> None:
    torch.random.default_generator.manual_seed(seed)
    if device.type == "cuda":
        torch.cuda.manual_seed(seed)


def gather_rng(device: torch.device) -> tuple[dict[str, torch.Tensor], dict]:
    """Every rank's RNG state, on every rank (a collective): tensors 'rng.cpu.R' (and 'rng.cuda.R')."""
    mine = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        mine["cuda"] = torch.cuda.get_rng_state(device)
    states: list = [None] * world_size()
    dist.all_gather_object(states, mine)
    tensors = {f"rng.{kind}.{r}": state for r, per_rank in enumerate(states) for kind, state in per_rank.items()}
    return tensors, {"world_size": world_size()}


def restore_rng(tensors: dict[str, torch.Tensor], metadata: dict, prefix: str, device: torch.device,
                seed: int) -> str | None:
    """Set this rank's RNG from the checkpoint; a message (for rank 0 to show) when the run was saved
    at another world size, where the batches are the same but the random streams are not."""
    saved = metadata.get("world_size")
    key = f"{prefix}rng.cpu.{rank()}"
    if saved == world_size() and key in tensors:
        torch.set_rng_state(tensors[key])
        if device.type == "cuda" and f"{prefix}rng.cuda.{rank()}" in tensors:
            torch.cuda.set_rng_state(tensors[f"{prefix}rng.cuda.{rank()}"], device)
        return None
    split_streams_at(rank_seed(seed) + metadata["train_state"]["epoch"], device)  # new streams, reproducibly
    before = processes(saved) if saved else "one process without torch.distributed"
    now = processes(world_size()) if joined() else "1 process without torch.distributed"
    changed = ("the batches continue as before but the random streams are new" if joined() and saved
               else "batches and random streams are drawn differently")
    return f"resuming on {now} a run saved by {before}: {changed}, so the run does not continue bit-identically"


def processes(n: int) -> str:
    return f"{n} process{'es' if n != 1 else ''}"
