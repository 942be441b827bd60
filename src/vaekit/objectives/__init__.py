"""Objectives: (model, batch) -> a scalar loss and per-example terms in nats, each of shape (B,).

One module per objective family, each registering with ``OBJECTIVES`` next to its definition;
importing this package fills the registry.
"""

from . import elbo, iwae, reconstruction, vq  # noqa: F401  (each registers its objective)
from .build import build_objective, objective_options
from .elbo import ELBO
from .importance import log_weights, log_weights_at
from .iwae import IWAE
from .reconstruction import Reconstruction
from .registry import OBJECTIVES
from .terms import Output, kl_levels, kl_per_dimension, kl_per_example, linear_warmup
from .vq import VQLoss

__all__ = ["ELBO", "IWAE", "OBJECTIVES", "Output", "Reconstruction", "VQLoss", "build_objective", "kl_levels",
           "kl_per_dimension", "kl_per_example", "linear_warmup", "log_weights", "log_weights_at", "objective_options"]
