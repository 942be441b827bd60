"""Trunks: networks that turn inputs into features (encoders) or latents into outputs (decoders).

A trunk holds no probability; the posterior head and the likelihood add that. Each trunk module
registers with ``TRUNKS`` (``nn/registry.py``); importing this package imports them all.
"""

from . import chen_mlp, conv, dcgan, dlib_conv, mlp  # noqa: F401  (each registers its trunk)
from .registry import TRUNKS

__all__ = ["TRUNKS"]
