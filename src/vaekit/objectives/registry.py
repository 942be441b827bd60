"""The objectives' registry, in a module of its own: objective modules import it, the package fills it.
An objective's keyword-only constructor arguments are its options (``objective.beta``)."""

from ..config.options import register_section
from ..registry import Registry

OBJECTIVES: Registry = Registry("objective")
register_section("objective", OBJECTIVES)  # the config section objective names one of these
