"""A sweep's points: variants x grid x random draws x seeds, each named from its settings.

A point's name is its folder under OUT/runs/ and its row's name in the results, made to be read:
``beta=4,latent_dim=8,seed=1`` (a variant's name first, ``draw=I`` for a random draw; a key by its
last part unless two swept keys share it). Values keep every digit they need to stay distinct.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import UserError
from .folder import UNSAFE
from .spec import SweepSpec

MAX_NAME = 180  # characters of a folder name; longer names end in a hash of the whole


@dataclass(frozen=True)
class Point:
    """One run of the sweep: its ``name``, ``variant`` (or None), the swept ``settings`` (dotted key ->
    value: the variant's, the grid's, the draw's, in that order), ``draw`` (random draw index or None)
    and ``seed`` (train.seed)."""

    name: str
    variant: str | None
    settings: dict[str, Any] = field(default_factory=dict)
    draw: int | None = None
    seed: int = 0


def expand(spec: SweepSpec) -> list[Point]:
    """Every point of ``spec``, in the order variants, grid (file order, last key fastest), draws, seeds.
    A UserError when two points get the same name."""
    variants = list(spec.variants.items()) or [(None, {})]
    keys = list(spec.grid)
    combinations = list(itertools.product(*spec.grid.values())) if keys else [()]
    draws = random_draws(spec)
    short = short_names(spec.swept_keys)
    points = []
    for (variant, variant_settings), combination, (draw, drawn), seed in itertools.product(
            variants, combinations, draws, spec.seeds):
        swept = {**dict(zip(keys, combination)), **drawn}
        settings = {**{k: v for k, v in variant_settings.items()}, **swept}
        name = point_name(variant, swept, short, draw, seed)
        points.append(Point(name, variant, settings, draw, seed))
    check_unique(points, spec.where)
    return points


def random_draws(spec: SweepSpec) -> list[tuple[int | None, dict]]:
    """[(i, {key: value})] for each random draw i; draw i comes from its own stream (seed, i), so it does
    not depend on ``count`` (a file whose count grew keeps its earlier draws). [(None, {})] without any."""
    if spec.random is None:
        return [(None, {})]
    draws = []
    for i in range(spec.random.count):
        rng = np.random.default_rng([spec.random.seed, i])
        draws.append((i, {key: dist.draw(rng) for key, dist in spec.random.parameters.items()}))
    return draws


def short_names(keys: list[str]) -> dict[str, str]:
    """Each dotted key by its last part (objective.beta -> beta), or whole where two keys share a last part."""
    last = [key.rsplit(".", 1)[-1] for key in keys]
    return {key: tail if last.count(tail) == 1 else key for key, tail in zip(keys, last)}


def point_name(variant: str | None, swept: dict[str, Any], short: dict[str, str], draw: int | None, seed: int) -> str:
    parts = [] if variant is None else [safe(variant)]
    parts += [f"draw={draw}"] if draw is not None else []
    parts += [f"{short[key]}={format_value(value)}" for key, value in swept.items()]
    name = ",".join([*parts, f"seed={seed}"])
    if len(name) > MAX_NAME:
        name = f"{name[:MAX_NAME - 13]}...{hashlib.sha1(name.encode()).hexdigest()[:10]}"
    return name


def format_value(value: Any) -> str:
    """A value as a name shows it: floats to 4 significant digits when that reads back the same (else
    all of them), lists joined by 'x', a part's mapping as NAME+KEY=VALUE..., text made path-safe."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        short = f"{value:.4g}"
        return short if float(short) == value else repr(value)
    if isinstance(value, (list, tuple)):
        return "x".join(format_value(item) for item in value)
    if isinstance(value, dict):
        options = [f"{k}={format_value(v)}" for k, v in value.items() if k != "name"]
        return "+".join([safe(str(value.get("name", ""))), *options])
    return safe(str(value))


def safe(text: str) -> str:
    """``text`` with characters that do not belong in a folder name (/, :, spaces, commas) as '_'."""
    return UNSAFE.sub("_", text).strip(".") or "_"


def check_unique(points: list[Point], where: str) -> None:
    seen: dict[str, Point] = {}
    for point in points:
        if point.name in seen:
            raise UserError(f"{where}: two points are both named {point.name!r} ({seen[point.name].settings} and "
                            f"{point.settings}); give the variants distinct names or the values distinct digits")
        seen[point.name] = point
