"""The registry of quantizers (``model.quantizer``), in a module of its own: each quantizer's module
registers its class by name; ``models/quantizers/__init__`` fills it by importing them."""

from ...registry import Registry

QUANTIZERS: Registry = Registry("quantizer")
