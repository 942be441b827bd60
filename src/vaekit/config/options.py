"""The one validator of the model and objective sections, derived from the registered parts' signatures.

A registered part's constructor (or builder function) is its hyperparameters: positional parameters
are the context the code that builds it supplies (data_shape, latent_dim, ...); keyword-only
parameters, each with a default and a type hint, are its options. The hint
``Annotated[Section, PartOf(REGISTRY)]`` makes an option a nested part chosen by name from REGISTRY
(``model.prior``), validated the same way. So a new part is one file: its signature is its config.

Errors are one line naming the section, the key, the value and what is allowed. Range checks (e.g.
``components >= 1``) live in the part and run when it is built.
"""

from __future__ import annotations

import inspect
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Annotated, Literal, Mapping

from ..errors import UserError
from .section import Section

# The registries of the top sections ("model" -> MODELS, "objective" -> OBJECTIVES). Filled by the
# packages that define them when imported (``vaekit`` imports both), since config sits below them.
SECTIONS: dict[str, Any] = {}


@dataclass(frozen=True)
class PartOf:
    """Marks an option as a nested part: ``trunk: Annotated[Section, PartOf(TRUNKS)] = part("mlp")``.
    ``auto``: the name 'auto' is allowed and resolved later (the likelihood, from the data); its
    options are validated once the name is chosen."""

    registry: Any
    auto: bool = False


def register_section(name: str, registry: Any) -> None:
    """Declare the registry whose entries a top section (model, objective) names."""
    SECTIONS[name] = registry


def option_parameters(factory: Any) -> dict[str, inspect.Parameter]:
    """The options of a registered part: its keyword-only parameters, in signature order."""
    return {p.name: p for p in inspect.signature(factory).parameters.values() if p.kind is p.KEYWORD_ONLY}


def option_hints(factory: Any) -> dict[str, Any]:
    target = factory.__init__ if isinstance(factory, type) else factory
    return typing.get_type_hints(target, include_extras=True)


def resolve_part(registry: Any, values: Any, where: str, given: set[str] | None = None,
                 default: Section | None = None, marker: PartOf | None = None, auto_name: str | None = None) -> Section:
    """The Section of the part ``values`` names (a mapping with ``name``, or a bare name), with every
    option of that part, its defaults filled in, each value checked against the part's type hints.

    where: the dotted path ('model.prior'). given: the dotted paths the layer being applied set; an
    option the named part does not take is an error if given and dropped if not (a lower layer set it
    for the part this layer replaced). None: every key is given. auto_name: the part to check
    against when the name is 'auto' (the model's default objective)."""
    values = {"name": values} if isinstance(values, str) else values
    if not isinstance(values, Mapping):
        raise UserError(f"{where}: expected a mapping with a name, e.g. {where}.name=..., got {values!r}")
    values = {"name": default.name, **values} if default is not None else values
    name = values.get("name")
    if not isinstance(name, str):
        raise UserError(f"{where}.name: expected the name of a registered {registry.kind}, got {name!r}; "
                        f"known: {', '.join(registry.names())}")
    if name == "auto" and auto_name is None and marker is not None and marker.auto:
        return Section(values)  # chosen later from the data, then validated
    checked = auto_name if name == "auto" and auto_name else name
    factory = lookup(registry, checked, where)
    params, hints = option_parameters(factory), option_hints(factory)
    for key, value in values.items():
        if key != "name" and key not in params and (given is None or was_given(given, f"{where}.{key}")):
            known = ", ".join(["name", *params])
            raise UserError(f"{where}: unknown key {key!r} (= {value!r}) for {registry.kind} {checked!r}; "
                            f"known keys: {known}")
    resolved: dict[str, Any] = {"name": name}
    for key, param in params.items():
        resolved[key] = resolve_option(hints.get(key), values.get(key, param.default), param.default,
                                       f"{where}.{key}", given)
    return Section(resolved)


def lookup(registry: Any, name: str, where: str) -> Any:
    try:
        return registry.get(name)
    except UserError as error:
        raise UserError(f"{where}.name: {error}") from None


def was_given(given: set[str], path: str) -> bool:
    return any(item == path or item.startswith(path + ".") for item in given)


def resolve_option(hint: Any, value: Any, default: Any, path: str, given: set[str] | None) -> Any:
    if default is inspect.Parameter.empty:
        raise TypeError(f"{path}: a part's keyword-only option needs a default")
    marker = part_marker(hint)
    if marker is not None:
        return resolve_part(marker.registry, value, path, given, default if isinstance(default, Section) else None,
                            marker)
    return coerce(hint, value, path)


def part_marker(hint: Any) -> PartOf | None:
    if typing.get_origin(hint) is Annotated:
        return next((item for item in hint.__metadata__ if isinstance(item, PartOf)), None)
    return None


def coerce(hint: Any, value: Any, path: str) -> Any:
    """``value`` as the type ``hint`` (int, float, bool, str, tuple[T, ...], Literal[...]), or a
    UserError naming ``path``, the value and what is allowed. An int is taken for a float; a single
    value for a tuple; NaN and infinities are refused (no option takes them)."""
    if hint is None or hint is Any:
        return value
    origin = typing.get_origin(hint)
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            raise UserError(f"{path}: {value!r} is not one of: {', '.join(map(str, allowed))}")
        return value
    if origin is tuple:
        item_type = typing.get_args(hint)[0]
        items = value if isinstance(value, (list, tuple)) else [value]
        return tuple(coerce(item_type, item, path) for item in items)
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"{path}: union types are not supported in options")
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, float) and not math.isfinite(value):
        raise UserError(f"{path} must be a finite number, got {value!r}")
    if not isinstance(value, hint) or (hint in (int, float) and isinstance(value, bool)):
        raise UserError(f"{path} must be {hint.__name__}, got {value!r} ({type(value).__name__})")
    return value
