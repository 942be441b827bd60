"""Objectives: (model, batch) -> a scalar loss and per-example terms in nats, each of shape (B,).

One module per objective family, each registering with ``OBJECTIVES`` next to its definition;
importing this package fills the registry.

An objective is called as ``objective(model, batch, beta=None) -> Output`` (``batch`` a
``vaekit.data.batch.Batch``; a conditional model is given ``batch.labels``) and gives ``beta_at(epoch)``.
It declares ``compilable`` (whether its forward pass traces under torch.compile) and may have the
optional hooks typed in ``protocols``: ``check_model`` on its factory, ``bind(model)``,
``prepare(examples)``, ``step(output)``, and ``module``/``optimizer`` saved in the resume state.
"""

from . import (  # noqa: F401  (each registers its objective)
    beta_tcvae,
    beta_vae_dae,
    capacity,
    denoising,
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
