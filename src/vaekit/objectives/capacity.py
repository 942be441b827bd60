"""Capacity-annealed beta-VAE (Burgess et al., 2018): the KL pulled towards a target C that rises
during training, so the code's capacity grows gradually.

    loss = mean_B[-log p(x|z)] + gamma * | mean_B[KL(q(z|x) || p(z))] - C(t) |,
    C(t) = capacity_max * min(1, t / capacity_steps),

t the number of training steps taken (the paper on dSprites: gamma = 1000, C from 0 to 25 nats over
100,000 steps). The step count is a buffer of the objective's own module, so it is saved with the
resume state; the trainer advances it after each step of the model (``step``).
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import UserError
from .checks import check_weights
from ..data.batch import Batch
from .registry import OBJECTIVES
from .terms import Output, kl_levels, reconstruction_and_kl


class StepCount(nn.Module):
    """Training steps taken so far, as an int64 buffer on the model's device (no host sync per step)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("steps", torch.zeros((), dtype=torch.int64))


@OBJECTIVES.register("capacity")
class CapacityELBO:
    """See the module docstring. Terms, (B,) nats per example: log_px_z, kl, elbo = log_px_z - kl (and
    a hierarchical model's kl per level), and capacity, the target C(t) of the step (the same for
    every example)."""

    compilable = False  # the target moves with the step count

    def __init__(self, *, gamma: float = 1.0, capacity_max: float = 25.0, capacity_steps: int = 100_000):
        check_weights("capacity", gamma=gamma, capacity_max=capacity_max)
        if capacity_steps < 1:
            raise UserError(f"objective 'capacity': objective.capacity_steps must be at least 1, got {capacity_steps}")
        self.gamma, self.capacity_max, self.capacity_steps = gamma, capacity_max, capacity_steps
        self.module = StepCount()  # its own state (HasTrainingState): saved with the resume state
        self.optimizer = None  # a step count: nothing to optimise

    def bind(self, model) -> None:
        self.module.to(next(model.parameters()).device)

    def capacity(self) -> torch.Tensor:
        """C(t), nats (a 0-dim tensor on the step counter's device)."""
        return self.capacity_max * (self.module.steps / self.capacity_steps).clamp(max=1.0)

    def beta_at(self, epoch: int) -> float:
        return self.gamma

    def __call__(self, model, batch: Batch, beta: float | None = None) -> Output:
        q, p, z, log_px_z, kl = reconstruction_and_kl(model, batch)  # z (B, D); log_px_z, kl (B,)
        capacity = self.capacity().to(kl.dtype)
        loss = -log_px_z.mean() + self.gamma * (kl.mean() - capacity).abs()
        terms = {"log_px_z": log_px_z, "kl": kl, **kl_levels(q, p, z), "elbo": log_px_z - kl,
                 "capacity": capacity.expand_as(kl)}
        return Output(loss, terms)

    def step(self, output: Output) -> None:
        self.module.steps += 1
