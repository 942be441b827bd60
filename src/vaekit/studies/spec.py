"""A sweep file: what a study trains and how each run is evaluated.

    base:                    # any run config (sections model, objective, data, train), or a YAML path
      model: {latent_dim: 8, trunk: {hidden: [64]}}
      train: {epochs: 5, report: false}
    variants:                # optional: named sets of settings (rows that are not a product)
      vae: {objective.name: elbo}
      tcvae: {objective.name: beta_tcvae, objective.beta: 6}
    grid:                    # dotted keys to lists; the product is taken
      objective.beta: [1, 4]
    random:                  # optional: COUNT draws of each key from its distribution, with a seed
      count: 4
      seed: 0
      parameters: {train.lr: {loguniform: [1.0e-4, 1.0e-2]}}
    seeds: [0, 1, 2]         # train.seed of each point (default [0])
    evaluate:                # optional: the evaluations each run gets (``evaluations.EVALUATIONS``)
      eval: {k: 100}
      disentangle: fast

A variant's settings, and ``base``, may name a config file with ``config: PATH`` (relative to the
sweep file). The points are variants x grid x random draws x seeds (``points.expand``). Reading the
file checks its shape; the configs themselves are validated per point (``validate``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..config.ranges import COUNT
from ..errors import UserError
from .distributions import distribution

TOP_KEYS = ("base", "variants", "grid", "random", "seeds", "evaluate")
SECTIONS = ("model", "objective", "data", "train")
CONFIG_KEY = "config"  # in base or a variant: a config file the other settings layer over


@dataclass(frozen=True)
class RandomDraws:
    """``count`` draws of every parameter (dotted key -> distribution) from a generator seeded ``seed``."""

    count: int
    seed: int
    parameters: dict[str, Any]


@dataclass(frozen=True)
class SweepSpec:
    """A parsed sweep file. ``where``: the file (for errors); ``folder``: where its relative paths start."""

    where: str
    folder: Path
    base: dict = field(default_factory=dict)
    variants: dict[str, dict] = field(default_factory=dict)
    grid: dict[str, list] = field(default_factory=dict)
    random: RandomDraws | None = None
    seeds: tuple[int, ...] = (0,)
    evaluate: dict[str, Any] = field(default_factory=dict)
    raw: dict = field(default_factory=dict)  # the file as read, stored in OUT/sweep.yaml

    @property
    def swept_keys(self) -> list[str]:
        """The dotted keys that change from point to point, in file order (grid, then random)."""
        return [*self.grid, *(self.random.parameters if self.random else {})]


def read_sweep(source: str | Path | Mapping) -> SweepSpec:
    """The sweep in ``source``: a YAML file's path, or its contents as a mapping (paths then start in the
    working folder). A UserError naming the file and the key for anything malformed."""
    if isinstance(source, Mapping):
        return parse_sweep(dict(source), "sweep", Path.cwd())
    path = Path(source)
    if not path.is_file():
        raise UserError(f"{path}: sweep file not found; pass the path of a YAML file (see 'vaekit sweep --help')")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML ({' '.join(str(exc).split())}); fix the syntax") from None
    return parse_sweep(values, str(path), path.resolve().parent)


def parse_sweep(values: Any, where: str, folder: Path) -> SweepSpec:
    if not isinstance(values, dict):
        raise UserError(f"{where}: expected a mapping with keys {', '.join(TOP_KEYS)}, got {values!r}")
    unknown = [key for key in values if key not in TOP_KEYS]
    if unknown:
        raise UserError(f"{where}: unknown key {unknown[0]!r}; known keys: {', '.join(TOP_KEYS)}")
    grid = {key: _grid_values(key, value, where) for key, value in _mapping(values, "grid", where).items()}
    variants = {str(name): _settings(settings, f"{where}: variants.{name}")
                for name, settings in _mapping(values, "variants", where).items()}
    spec = SweepSpec(where=where, folder=folder, base=_base(values.get("base", {}), where), variants=variants,
                     grid=grid, random=_random(values.get("random"), where), seeds=_seeds(values.get("seeds", [0]), where),
                     evaluate=_mapping(values, "evaluate", where), raw=values)
    _check_distinct_keys(spec)
    return spec


def _mapping(values: dict, key: str, where: str) -> dict:
    value = values.get(key) or {}
    if not isinstance(value, dict):
        raise UserError(f"{where}: {key} must be a mapping, got {value!r}")
    return value


def _base(value: Any, where: str) -> dict:
    if isinstance(value, str):
        return {CONFIG_KEY: value}
    if not isinstance(value, dict):
        raise UserError(f"{where}: base must be a config (a mapping of sections) or a config file's path, got {value!r}")
    return value


def _settings(value: Any, where: str) -> dict:
    """A variant: dotted keys to values (``config``: a config file)."""
    if not isinstance(value, dict) or not value:
        raise UserError(f"{where}: expected a mapping of dotted keys to values, e.g. objective.beta: 4, got {value!r}")
    for key in value:
        if key != CONFIG_KEY:
            check_dotted(key, where)
    return value


def check_dotted(key: Any, where: str) -> None:
    """``key`` is SECTION.KEY[.KEY...] with a known section."""
    parts = str(key).split(".")
    if len(parts) < 2 or parts[0] not in SECTIONS or not all(parts):
        raise UserError(f"{where}: key {key!r} must be a dotted setting SECTION.KEY with SECTION one of "
                        f"{', '.join(SECTIONS)}, e.g. objective.beta")


def _grid_values(key: Any, value: Any, where: str) -> list:
    check_dotted(key, f"{where}: grid")
    if not isinstance(value, list) or not value:
        raise UserError(f"{where}: grid.{key} must be a non-empty list of values, got {value!r}")
    if len(set(map(repr, value))) != len(value):
        raise UserError(f"{where}: grid.{key} lists a value twice: {value!r}")
    return value


def _random(value: Any, where: str) -> RandomDraws | None:
    if value is None:
        return None
    known = ("count", "seed", "parameters")
    if not isinstance(value, dict) or any(key not in known for key in value):
        raise UserError(f"{where}: random must be a mapping with keys {', '.join(known)}, got {value!r}")
    count, seed = value.get("count"), value.get("seed", 0)
    COUNT.check(f"{where}: random.count", count)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise UserError(f"{where}: random.seed must be an integer, got {seed!r}")
    parameters = value.get("parameters") or {}
    if not isinstance(parameters, dict) or not parameters:
        raise UserError(f"{where}: random.parameters must map dotted keys to distributions, got {parameters!r}")
    for key in parameters:
        check_dotted(key, f"{where}: random.parameters")
    return RandomDraws(count, seed, {key: distribution(dist, f"{where}: random.parameters.{key}")
                                     for key, dist in parameters.items()})


def _seeds(value: Any, where: str) -> tuple[int, ...]:
    ok = isinstance(value, list) and value and all(isinstance(s, int) and not isinstance(s, bool) for s in value)
    if not ok or len(set(value)) != len(value):
        raise UserError(f"{where}: seeds must be a non-empty list of distinct integers, got {value!r}")
    return tuple(value)


def _check_distinct_keys(spec: SweepSpec) -> None:
    """A key is swept in one place only (grid or random), and never train.seed (that is ``seeds``)."""
    swept = list(spec.grid) + list(spec.random.parameters if spec.random else [])
    for key in swept:
        if swept.count(key) > 1:
            raise UserError(f"{spec.where}: {key} is both in grid and in random; sweep it in one of them")
        if key == "train.seed":
            raise UserError(f"{spec.where}: train.seed is swept by 'seeds: [...]', not by grid or random")
