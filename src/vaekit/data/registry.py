"""The data sources' registry, in a module of its own: source modules import it, ``data/__init__`` fills it."""

from ..registry import Registry

SOURCES: Registry = Registry("data source")
