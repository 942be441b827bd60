"""The registry of quantizers (``model.quantizer``), in a module of its own: each quantizer's module
registers its class by name; ``models/quantizers/__init__`` fills it by importing them."""

from typing import Annotated

from ...config.options import PartOf
from ...config.section import Section
from ...registry import Registry

QUANTIZERS: Registry = Registry("quantizer")
QuantizerPart = Annotated[Section, PartOf(QUANTIZERS)]  # the type of the vqvae option model.quantizer
