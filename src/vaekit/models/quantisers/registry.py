"""The registry of quantisers (``model.quantizer``), in a module of its own: each quantiser's module
registers its class by name; ``models/quantisers/__init__`` fills it by importing them."""

from ...registry import Registry

QUANTISERS: Registry = Registry("quantizer")
