"""``build_objective``: the registered objective a config names, checked against the model it trains."""

from __future__ import annotations

from typing import Mapping

from ..config.options import resolve_part
from ..config.section import part
from ..errors import UserError
from ..models.protocols import ChecksObjective
from .protocols import BindsModel, ChecksModel
from .registry import OBJECTIVES


def build_objective(config: Mapping, model) -> object:
    """The registered objective ``config.name`` ('auto': the model's default) with the section's
    options, validated against the objective's signature (a UserError names a bad one)."""
    section = resolve_part(OBJECTIVES, config, "objective", default=part("auto"), auto_name=model.default_objective)
    name = model.default_objective if section.name == "auto" else section.name
    factory = OBJECTIVES.get(name)
    if isinstance(model, ChecksObjective):  # a model that trains with particular objectives only (a VQ-VAE)
        model.check_objective(name)
    if isinstance(factory, ChecksModel):  # an objective that says which models it fits, instead of the rule below
        factory.check_model(model)
    elif name != "reconstruction" and model.prior is None:
        raise UserError(f"objective {name!r} needs a prior; a plain autoencoder trains with objective 'reconstruction'")
    objective = factory(**section.options)
    if isinstance(objective, BindsModel):  # an objective with parts of its own (a discriminator) builds them here
        objective.bind(model)
    return objective
