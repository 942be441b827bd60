"""The registries of the model parts, in a module of their own: the modules that define parts import
it and register by name; ``models/__init__`` fills it by importing them."""

from ..registry import Registry

MODELS: Registry = Registry("model")
PRIORS: Registry = Registry("prior")
LIKELIHOODS: Registry = Registry("likelihood")
