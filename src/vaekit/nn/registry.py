"""The trunks' registry, in a module of its own: trunk modules import it, ``nn/__init__`` fills it."""

from typing import Annotated

from ..config.options import PartOf
from ..config.section import Section
from ..registry import Registry

TRUNKS: Registry = Registry("trunk")
Trunk = Annotated[Section, PartOf(TRUNKS)]  # the type of a model option naming a trunk (model.trunk)
