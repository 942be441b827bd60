"""The quantizers of a VQ-VAE, one per module, registered by name (``model.quantizer.name``): ``nearest``
(one codebook), ``residual`` (stages of codebooks), ``fsq`` (a fixed grid). Each one's keyword-only
constructor arguments are its options (``model.quantizer.codebook_size``, ``model.quantizer.levels``)."""

from . import fsq, nearest, residual  # noqa: F401  (each registers its quantizer)
from .base import Quantized, Quantizer
from .registry import QUANTIZERS, QuantizerPart


def build_quantizer(quantizer, latent_dim: int) -> Quantizer:
    """The registered quantizer ``quantizer.name`` with its options, for encoder outputs of width ``latent_dim``."""
    return QUANTIZERS.get(quantizer.name)(latent_dim, **quantizer.options)


__all__ = ["QUANTIZERS", "Quantized", "Quantizer", "QuantizerPart", "build_quantizer"]
