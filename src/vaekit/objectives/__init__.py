"""Objectives: (model, batch) -> a scalar loss and per-example terms in nats, each of shape (B,).

One module per objective family, each registering with ``OBJECTIVES`` next to its definition;
importing this package fills the registry.

An objective is called as ``objective(model, x, beta=None) -> Output`` and gives ``beta_at(epoch)``.
It may also have, and the code that trains it then uses:

- ``check_model(model)`` (static): a UserError when the objective does not fit the model;
- ``bind(model)``: called once by ``build_objective``, to build what it needs beside the model;
- ``prepare(examples)``: called by the trainer before the first step with the training set size N;
- ``module``: an ``nn.Module`` of its own parameters and buffers (a discriminator, a step count),
  and ``optimizer``, its own optimiser over them; both are saved in the resume state;
- ``step(output)``: called by the trainer after each optimiser step of the model, with the step's Output.
"""

from . import (  # noqa: F401  (each registers its objective)
    beta_tcvae,
    capacity,
    dip_vae,
    elbo,
    factorvae,
    iwae,
    reconstruction,
    vq,
)
from .beta_tcvae import BetaTCVAE
from .build import build_objective
from .capacity import CapacityELBO
from .dip_vae import DIPVAE1, DIPVAE2
from .elbo import ELBO
from .factorvae import FactorVAE
from .importance import log_weights, log_weights_at
from .iwae import IWAE
from .reconstruction import Reconstruction
from .registry import OBJECTIVES
from .terms import Output, kl_levels, kl_per_dimension, kl_per_example, linear_warmup
from .vq import VQLoss

__all__ = ["DIPVAE1", "DIPVAE2", "ELBO", "IWAE", "OBJECTIVES", "BetaTCVAE", "CapacityELBO", "FactorVAE", "Output",
           "Reconstruction", "VQLoss", "build_objective", "kl_levels", "kl_per_dimension", "kl_per_example",
           "linear_warmup", "log_weights", "log_weights_at"]
