"""The trunks' registry, in a module of its own: trunk modules import it, ``nn/__init__`` fills it."""

from ..registry import Registry

TRUNKS: Registry = Registry("trunk")
