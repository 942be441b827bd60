"""The training loop: one objective over batches, with validation, early stopping and a clean stop
on a non-finite loss. It never prints; progress reaches the caller through ``on_step``/``on_epoch``.

Per step nothing leaves the device: sums of the terms, the gradient norm and the first non-finite
step are accumulated as tensors and read once per epoch.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from .evaluate import mean_terms
from .errors import UserError


class NonFiniteLoss(UserError):
    """The loss became NaN or Inf; the last good checkpoint is left as it was."""


@dataclass
class TrainState:
    """Plain values that, with weights, optimizer and RNG state, let a run continue exactly."""

    epoch: int = 0  # epochs completed
    best_val_elbo: float = -math.inf
    best_epoch: int = 0
    epochs_since_best: int = 0
    history: list[dict] = field(default_factory=list)  # one metrics row per completed epoch
    stopped_early: bool = False


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


class Trainer:
    """Runs ``objective`` over ``batches`` for ``config.epochs`` epochs; see ``fit``."""

    def __init__(self, model, objective, config, optimizer, schedule, state: TrainState | None = None):
        self.model, self.objective, self.config = model, objective, config
        self.optimizer, self.schedule = optimizer, schedule
        self.state = state or TrainState()

    def fit(self, batches, val_data=None, on_step: Callable | None = None, on_epoch: Callable | None = None):
        """Train until ``config.epochs`` or early stopping. ``on_epoch(state, improved)`` runs after
        each epoch, and is where the caller saves checkpoints. Must run inside the caller's RNG fork."""
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
        sums, grad_norm, first_bad, steps, n = {}, 0.0, torch.tensor(-1, device=device), len(batches), 0
        for step, x in enumerate(batches):
            output = self.objective(self.model, x, beta=beta)
            n += x.shape[0]
            self.optimizer.zero_grad(set_to_none=True)
            output.loss.backward()
            grad_norm = grad_norm + self.clip_gradients()
            self.optimizer.step()
            bad = ~torch.isfinite(output.loss.detach())
            first_bad = torch.where(bad & (first_bad < 0), step, first_bad)
            for name, value in output.terms.items():
                sums[name] = sums.get(name, 0) + value.detach().sum()
            if on_step is not None:
                on_step(StepInfo(epoch, step, steps, output))
        self.raise_if_nonfinite(int(first_bad), epoch, lr)
        self.schedule.step()
        row = {"epoch": epoch + 1, **{f"train_{k}": float(v) / n for k, v in sums.items()}}
        row.update(beta=beta, lr=lr, grad_norm=float(grad_norm) / steps, seconds=time.perf_counter() - started)
        return row

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

    def validate(self, row: dict, val_data) -> bool:
        """Adds validation terms to ``row``; True when the validation ELBO is the best so far."""
        if val_data is None or len(val_data) == 0:
            return True
        # Fixed noise (seed 0) so that epochs compare fairly; the ELBO, whatever the training objective.
        terms = mean_terms(self.model, val_data, k=0, batch_size=1024, seed=0, chunk=None)
        row.update({f"val_{k}": v for k, v in terms.items()})
        row.update(self.model.epoch_statistics(val_data))
        score = terms["elbo"] if "elbo" in terms else terms["log_px_z"]  # the AE has no ELBO
        if score > self.state.best_val_elbo:
            self.state.best_val_elbo, self.state.best_epoch = score, self.state.epoch + 1
            self.state.epochs_since_best = 0
            return True
        self.state.epochs_since_best += 1
        patience = self.config.patience
        self.state.stopped_early = patience > 0 and self.state.epochs_since_best >= patience
        return False
