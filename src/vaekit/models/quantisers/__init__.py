"""The quantisers of a VQ-VAE, one per module, registered by name (``model.quantizer``): ``nearest``
(one codebook), ``residual`` (stages of codebooks), ``fsq`` (a fixed grid). ``build_quantiser``
checks the config's options against the chosen one."""

from . import fsq, nearest, residual  # noqa: F401  (each registers its quantiser)
from .base import Quantised, Quantiser, check_options
from .registry import QUANTISERS


def build_quantiser(config) -> Quantiser:
    """The registered quantiser ``config.quantizer``, for encoder outputs of width ``config.latent_dim``."""
    factory = QUANTISERS.get(config.quantizer)
    check_options(config.quantizer, config, factory.options)
    return factory(config)


__all__ = ["QUANTISERS", "Quantised", "Quantiser", "build_quantiser"]
