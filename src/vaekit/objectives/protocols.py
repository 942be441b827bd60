"""What an objective is, and the optional hooks the code that trains it looks for, as typed protocols.

An objective is any callable ``objective(model, batch, beta=None) -> Output`` with ``beta_at(epoch)``
(``Objective``). Each hook below is optional; the builder and the trainer check for it with
``isinstance`` against its runtime-checkable protocol, so a toy objective with none of them trains.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import nn

from ..data.batch import Batch
from .terms import Output


@runtime_checkable
class Objective(Protocol):
    """(model, batch) -> loss and per-example terms (B,) in nats; ``beta_at`` the KL weight of a 0-based epoch."""

    def __call__(self, model, batch: Batch, beta: float | None = None) -> Output: ...

    def beta_at(self, epoch: int) -> float: ...


@runtime_checkable
class Compilable(Protocol):
    """Says whether its forward pass traces cleanly under ``torch.compile`` (pure tensor code, no host
    reads or Python side effects per step). An objective that does not say is run eagerly."""

    compilable: bool


@runtime_checkable
class ChecksModel(Protocol):
    """On the registered factory (a static or class method): a UserError when the objective does not fit
    ``model``. Without it, the builder's rule applies: every objective but 'reconstruction' needs a prior."""

    def check_model(self, model) -> None: ...


@runtime_checkable
class BindsModel(Protocol):
    """Builds what it needs beside the model (a discriminator sized to the latent), once, by the builder."""

    def bind(self, model) -> None: ...


@runtime_checkable
class NeedsDataSize(Protocol):
    """Given the training set size N (the global one) by the trainer before the first step (beta-TCVAE)."""

    def prepare(self, examples: int) -> None: ...


@runtime_checkable
class StepsAfterModel(Protocol):
    """Its own update after each optimiser step of the model, given that step's Output (a discriminator's
    Adam step, a step count)."""

    def step(self, output: Output) -> None: ...


@runtime_checkable
class HasTrainingState(Protocol):
    """Parameters or buffers of its own (``module``) and their optimiser (``optimizer``, or None); both go
    into the resume state."""

    module: nn.Module | None
    optimizer: torch.optim.Optimizer | None


def is_compilable(objective) -> bool:
    """Whether ``objective`` declares that it traces cleanly (``Compilable`` with ``compilable = True``)."""
    return isinstance(objective, Compilable) and bool(objective.compilable)
