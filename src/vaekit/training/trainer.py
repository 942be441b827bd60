"""The training loop: one objective over batches, with validation, early stopping and a clean stop
on a non-finite loss. It never prints; progress reaches the caller through ``on_step``/``on_epoch``.

Per step nothing leaves the device: each step's loss and term sums go to one row of a tensor on
the device (computed inside the compiled graph when compiling), the gradient norm is summed
there too, and both are read once per epoch.

The forward pass (objective and model) is compiled with ``torch.compile`` where it pays: long runs
(``COMPILE_MIN_EXAMPLES``) of objectives that declare ``compilable = True``, on a device with a
working compiler. Full batches run the compiled graph; the last, partial batch of an epoch runs
eagerly rather than triggering a recompile. The decision depends only on the run's settings and
the machine, so a resumed run decides the same way and stays bit-identical. ``VAEKIT_COMPILE=0``
(or ``1``) forces it off (or on). Compiled graphs are kept in torch's on-disk inductor cache, so
later runs of the same model start faster.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Sized
from dataclasses import dataclass, field
from typing import Callable

import torch

from ..data.batch import Batch
from ..errors import UserError
from ..evaluation.codebook import codebook_statistics
from ..evaluation.likelihood import mean_terms
from ..nn.modes import eval_mode
from ..nn.precision import autocast
from ..objectives import Output
from ..objectives.protocols import NeedsDataSize, StepsAfterModel, is_compilable

# Compiling costs seconds (3-5 s for an MLP VAE on 2 CPU cores once torch's cache holds the
# graphs, 15-30 s before) and saves 5-10 % of every step; a run of fewer examples does not repay it.
COMPILE_MIN_EXAMPLES = 1_000_000


class NonFiniteLoss(UserError):
    """The loss became NaN or Inf; the last good checkpoint is left as it was."""


@dataclass
class TrainState:
    """Plain values that, with weights, optimizer and RNG state, let a run continue exactly."""

    epoch: int = 0  # epochs completed
    best_val_score: float = -math.inf  # the best validation ELBO (an autoencoder's: log p(x|z)), nats per example
    best_epoch: int = 0
    epochs_since_best: int = 0
    history: list[dict] = field(default_factory=list)  # one metrics row per completed epoch
    stopped_early: bool = False

    @classmethod
    def from_dict(cls, values: dict) -> TrainState:
        """The state stored in a resume checkpoint; one written before 0.2 named best_val_score best_val_elbo."""
        values = dict(values)
        if "best_val_elbo" in values:
            values.setdefault("best_val_score", values.pop("best_val_elbo"))
        return cls(**values)


def make_optimizer(model: torch.nn.Module, lr: float, device: torch.device) -> torch.optim.Adam:
    """Adam, fused where this torch supports it for the device (one kernel for all parameters)."""
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except RuntimeError:  # fused Adam not available for this device or dtype
        return torch.optim.Adam(model.parameters(), lr=lr)


def make_schedule(optimizer, name: str, epochs: int):
    if name == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1.0)
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(epochs, 1))
    raise UserError(f"train.lr_schedule {name!r} is not one of: constant, cosine")


@dataclass
class StepInfo:
    """What a progress display needs; reading ``output`` tensors syncs with the device."""

    epoch: int
    step: int
    steps: int
    output: object


def should_compile(objective, device: torch.device, examples: int) -> bool:
    """Compile the forward pass of a run that trains on ``examples`` examples in all (epochs
    times examples per epoch)? See the module docstring."""
    forced = os.environ.get("VAEKIT_COMPILE", "")
    if forced in ("0", "1"):
        return forced == "1" and objective is not None and compiler_available(device)
    return examples >= COMPILE_MIN_EXAMPLES and is_compilable(objective) and compiler_available(device)


def compiler_available(device: torch.device) -> bool:
    """torch.compile's default backend needs a C++ compiler on CPU (Triton ships with CUDA builds)."""
    if not hasattr(torch, "compile"):
        return False
    if device.type == "cpu":
        return any(shutil.which(name) for name in (os.environ.get("CXX", ""), "g++", "c++", "clang++") if name)
    return device.type == "cuda"


def step_record(output: Output) -> torch.Tensor:
    """(1 + terms,): a step's loss and the batch sum of each of its terms, detached; the trainer
    keeps one row per step on the device and reads them once per epoch."""
    return torch.stack([output.loss.detach(), *(value.detach().sum() for value in output.terms.values())])


def training_examples(batches) -> int:
    """N, the number of training examples behind ``batches`` (the data set's length, not a batch's)."""
    data = getattr(batches, "data", None)
    return len(data) if data is not None else len(batches) * batches.batch_size


def first_nonfinite(losses: torch.Tensor) -> int:
    """The index of the first NaN or Inf in ``losses`` (steps,), else -1 (one read from the device)."""
    bad = (~torch.isfinite(losses)).nonzero()
    return int(bad[0]) if len(bad) else -1


class Trainer:
    """Runs ``objective`` over ``batches`` for ``config.epochs`` epochs; see ``fit``.

    ``compile``: run the forward pass of full batches through ``torch.compile``; None (default)
    lets ``fit`` decide with ``should_compile`` from the run's length (module docstring)."""

    def __init__(self, model, objective, config, optimizer, schedule, state: TrainState | None = None,
                 compile: bool | None = None):
        self.model, self.objective, self.config = model, objective, config
        self.optimizer, self.schedule = optimizer, schedule
        self.state = state or TrainState()
        self.compile, self.compiled, self.warmed = compile, None, False

    def prepare_compile(self, batches) -> None:
        """Decide once whether to compile, from the whole run's steps (the same on resume)."""
        device = next(self.model.parameters()).device
        if self.compile is None:
            per_epoch = len(batches) * getattr(batches, "batch_size", 1) if isinstance(batches, Sized) else 0
            self.compile = should_compile(self.objective, device, per_epoch * self.config.epochs)
        if self.compile and self.compiled is None:

            def forward(x: torch.Tensor, labels: torch.Tensor | None, beta: float):  # tensors in: what the graph is keyed on
                output = self.objective(self.model, Batch(x, labels), beta=beta)
                return output.loss, output.terms, step_record(output)

            mode = "reduce-overhead" if device.type == "cuda" else None  # CUDA graphs: small models are launch-bound
            self.compiled = torch.compile(forward, dynamic=False, mode=mode)

    def forward(self, batch: Batch, beta: float, full: bool) -> tuple[Output, torch.Tensor]:
        """The objective on ``batch`` and the step's record (``step_record``): the compiled graph for
        full batches when compiling, else eager."""
        with autocast(getattr(self.config, "precision", "fp32"), batch.x.device):
            if self.compiled is not None and full:
                if not self.warmed:
                    self.warm_up(batch.head(2), beta)
                loss, terms, record = self.compiled(batch.x, batch.labels, beta)
                return Output(loss, terms), record
            output = self.objective(self.model, batch, beta=beta)
            return output, step_record(output)

    def warm_up(self, batch: Batch, beta: float) -> None:
        """One eager pass before tracing fills lazy Python caches (torch.distributions' KL dispatch),
        which would otherwise split the graph; no gradients, eval mode, and the RNG is left as it was."""
        cuda = [batch.x.device] if batch.x.device.type == "cuda" else []
        with torch.random.fork_rng(devices=cuda), torch.no_grad(), eval_mode(self.model):
            self.objective(self.model, batch, beta=beta)
        self.warmed = True

    def fit(self, batches, val_data=None, on_step: Callable | None = None, on_epoch: Callable | None = None):
        """Train until ``config.epochs`` or early stopping. ``on_epoch(state, improved)`` runs after
        each epoch, and is where the caller saves checkpoints. Must run inside the caller's RNG fork."""
        self.prepare_compile(batches)
        if isinstance(self.objective, NeedsDataSize):  # an objective that needs the training set size (beta-TCVAE)
            self.objective.prepare(training_examples(batches))
        while self.state.epoch < self.config.epochs and not self.state.stopped_early:
            row = self.train_epoch(batches, on_step)
            improved = self.validate(row, val_data)
            self.state.epoch += 1
            self.state.history.append(row)
            if on_epoch is not None:
                on_epoch(self.state, improved)
        return self.state

    def train_epoch(self, batches, on_step) -> dict:
        epoch, started = self.state.epoch, time.perf_counter()
        beta = self.objective.beta_at(epoch)
        lr = self.optimizer.param_groups[0]["lr"]
        self.model.train()
        device = next(self.model.parameters()).device
        steps, n, full = len(batches), 0, getattr(batches, "batch_size", None)
        names, records, grad_norm = [], None, 0.0
        after_step = self.objective.step if isinstance(self.objective, StepsAfterModel) else None
        for step, batch in enumerate(batches):
            output, record = self.forward(batch, beta, len(batch) == full)
            n += len(batch)
            self.optimizer.zero_grad(set_to_none=True)
            output.loss.backward()
            grad_norm = grad_norm + self.clip_gradients()
            self.optimizer.step()
            if after_step is not None:  # an objective's own update (FactorVAE's discriminator, a step count)
                after_step(output)
            if records is None:  # (steps, 1 + terms): read once, at the end of the epoch
                names, records = list(output.terms), torch.zeros(steps, len(record), dtype=record.dtype, device=device)
            records[step] = record
            if on_step is not None:
                on_step(StepInfo(epoch, step, steps, output))
        sums = {}
        if records is not None:
            records, n = self.reduce_epoch(records, n)
            records = records.double()
            self.raise_if_nonfinite(first_nonfinite(records[:, 0]), epoch, lr)
            sums = dict(zip(names, records[:, 1:].sum(0).tolist()))
        self.schedule.step()
        row = {"epoch": epoch + 1, **{f"train_{k}": v / n for k, v in sums.items()}}
        row.update(beta=beta, lr=lr, grad_norm=float(grad_norm) / steps, seconds=time.perf_counter() - started)
        return row

    def reduce_epoch(self, records: torch.Tensor, n: int) -> tuple[torch.Tensor, int]:
        """The epoch's step records (steps, 1 + terms) and example count, as the metrics count them: this
        process's own; data-parallel training sums them over the processes."""
        return records, n

    def clip_gradients(self) -> torch.Tensor:
        """The total gradient norm before clipping (a device tensor); clips when train.grad_clip > 0."""
        parameters = [p for p in self.model.parameters() if p.grad is not None]
        if self.config.grad_clip > 0:
            return torch.nn.utils.clip_grad_norm_(parameters, self.config.grad_clip)
        return torch.nn.utils.get_total_norm([p.grad for p in parameters])

    def raise_if_nonfinite(self, first_bad: int, epoch: int, lr: float) -> None:
        if first_bad >= 0:
            raise NonFiniteLoss(
                f"the loss became non-finite at epoch {epoch + 1}, step {first_bad + 1}; the last good checkpoint "
                f"is kept. Likely causes: a learning rate too high (now {lr:g}; try --lr {lr / 10:g} or "
                "--set train.grad_clip=1), or a likelihood that does not fit the data (e.g. a learned-sigma "
                "Gaussian collapsing on constant pixels)."
            )

    def validation_terms(self, val_data) -> dict[str, float]:
        """Mean validation terms (nats per example): the ELBO, whatever the training objective, with
        fixed noise (seed 0) so that epochs compare fairly."""
        return mean_terms(self.model, val_data, k=0, batch_size=1024, seed=0, chunk=None)

    def validate(self, row: dict, val_data) -> bool:
        """Adds validation terms to ``row``; True when the validation ELBO is the best so far."""
        if val_data is None or len(val_data) == 0:
            return True
        terms = self.validation_terms(val_data)
        row.update({f"val_{k}": v for k, v in terms.items()})
        row.update(codebook_statistics(self.model, val_data))  # a VQ-VAE: codebook health; nothing otherwise
        score = terms["elbo"] if "elbo" in terms else terms["log_px_z"]  # the AE has no ELBO
        if score > self.state.best_val_score:
            self.state.best_val_score, self.state.best_epoch = score, self.state.epoch + 1
            self.state.epochs_since_best = 0
            return True
        self.state.epochs_since_best += 1
        patience = self.config.patience
        self.state.stopped_early = patience > 0 and self.state.epochs_since_best >= patience
        return False
