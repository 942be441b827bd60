"""The quantizers of a VQ-VAE, one per module, registered by name (``model.quantizer``): ``nearest``
(one codebook), ``residual`` (stages of codebooks), ``fsq`` (a fixed grid). ``build_quantizer``
checks the config's options against the chosen one."""

from . import fsq, nearest, residual  # noqa: F401  (each registers its quantizer)
from .base import Quantized, Quantizer, check_options
from .registry import QUANTIZERS


def build_quantizer(config) -> Quantizer:
    """The registered quantizer ``config.quantizer``, for encoder outputs of width ``config.latent_dim``."""
    factory = QUANTIZERS.get(config.quantizer)
    check_options(config.quantizer, config, factory.options)
    return factory(config)


__all__ = ["QUANTIZERS", "Quantized", "Quantizer", "build_quantizer"]
