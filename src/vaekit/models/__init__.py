"""Models: the composed latent-variable model and its parts (posterior heads, priors, likelihoods), the
hierarchical and VQ models, the VQ-VAE's quantizers (``models/quantizers``) and its code prior.

Each part registers by name next to its definition (``models/registry.py``); importing this package
imports every part's module, so the registries are full.
"""

from . import conditional, dae, discrete, exemplar, hvae, likelihoods, priors, vq  # noqa: F401  (each registers its parts)
from .model import LatentVariableModel, build_model
from .registry import LIKELIHOODS, MODELS, PRIORS

__all__ = ["LIKELIHOODS", "MODELS", "PRIORS", "LatentVariableModel", "build_model"]
