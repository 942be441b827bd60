"""The objectives' registry, in a module of its own: objective modules import it, the package fills it."""

from ..registry import Registry

OBJECTIVES: Registry = Registry("objective")
