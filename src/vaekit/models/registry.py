"""The registries of the model parts, in a module of their own: the modules that define parts import
it and register by name; ``models/__init__`` fills it by importing them.

The ``*Part`` types mark a builder's option as a nested part chosen from a registry
(``prior: PriorPart = part("normal")``), for the config's validator (``config.options``)."""

from typing import Annotated

from ..config.options import PartOf, register_section
from ..config.section import Section
from ..registry import Registry

MODELS: Registry = Registry("model")  # each registered with objective=NAME: its default objective
PRIORS: Registry = Registry("prior")
LIKELIHOODS: Registry = Registry("likelihood")
CODE_PRIORS: Registry = Registry("code prior")
register_section("model", MODELS)  # the config section model names one of these

PriorPart = Annotated[Section, PartOf(PRIORS)]
LikelihoodPart = Annotated[Section, PartOf(LIKELIHOODS, auto=True)]  # 'auto': chosen from the data by vaekit.train
CodePriorPart = Annotated[Section, PartOf(CODE_PRIORS)]
