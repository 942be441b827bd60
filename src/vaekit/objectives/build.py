"""``build_objective``: the registered objective a config names, checked against the model it trains."""

from __future__ import annotations

import dataclasses
import inspect

from ..errors import UserError
from ..models.protocols import ChecksObjective
from .protocols import BindsModel, ChecksModel
from .registry import OBJECTIVES


def build_objective(config, model) -> object:
    """The registered objective ``config.name`` ('auto': the model's default) with config's options."""
    name = model.default_objective if config.name == "auto" else config.name
    factory = OBJECTIVES.get(name)
    if isinstance(model, ChecksObjective):  # a model that trains with particular objectives only (a VQ-VAE)
        model.check_objective(name)
    if isinstance(factory, ChecksModel):  # an objective that says which models it fits, instead of the rule below
        factory.check_model(model)
    elif name != "reconstruction" and model.prior is None:
        raise UserError(f"objective {name!r} needs a prior; a plain autoencoder trains with objective 'reconstruction'")
    objective = factory(**objective_options(factory, config, name))
    if isinstance(objective, BindsModel):  # an objective with parts of its own (a discriminator) builds them here
        objective.bind(model)
    return objective


def objective_options(factory, config, name: str) -> dict:
    """The ObjectiveConfig fields ``factory`` takes as keyword arguments. A field it does not take
    must keep its default (objective.k=50 with the ELBO would be silently ignored otherwise)."""
    accepted = inspect.signature(factory).parameters
    defaults = type(config)()
    options = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if field.name in accepted:
            options[field.name] = value
        elif field.name != "name" and value != getattr(defaults, field.name):
            raise UserError(f"objective {name!r} does not use objective.{field.name}; leave it at its default "
                            f"({getattr(defaults, field.name)!r}) or choose an objective that does")
    return options
