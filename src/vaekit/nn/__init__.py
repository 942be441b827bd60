"""Trunks: networks that turn inputs into features (encoders) or latents into outputs (decoders).

A trunk holds no probability; the posterior head and the likelihood add that.
"""

from ..registry import Registry

TRUNKS: Registry = Registry("trunk")

from . import conv, mlp  # noqa: E402,F401  (registers the trunks)
