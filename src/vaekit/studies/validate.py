"""Each point's config, validated before the first run starts.

A point's config is layered as a user would by hand: the variant's config file (``config:``) or else
the base's, or the defaults; then the base's sections; then, as one layer, the point's settings
(variant, grid, draw) and its seed as train.seed. The config's own validator checks every key and
value (``vaekit.config``); then the model and objective are built once per point on the point's
data (its shape, the likelihood chosen from it), so a part's range check fails here too, naming
the point, before anything is trained.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..config import Config, load_config
from ..errors import UserError
from ..models.model import build_model
from ..objectives import build_objective
from ..runs.prepared import prepare_data
from ..runs.train import stored_as_used
from ..seeding import seeded
from .points import Point
from .spec import CONFIG_KEY, SweepSpec


def point_configs(spec: SweepSpec, points: list[Point], build: bool = True) -> dict[str, Config]:
    """{point name: its Config}, each validated; ``build``: also build its model and objective on its data
    (each distinct data section loaded once). A UserError '<file>: point <name>: <key and problem>'."""
    configs = {point.name: point_config(spec, point) for point in points}
    if build:
        shapes: dict[Any, Any] = {}
        for name, config in configs.items():
            check_builds(config, f"{spec.where}: point {name}", shapes)
    return configs


def point_config(spec: SweepSpec, point: Point) -> Config:
    where = f"{spec.where}: point {point.name}"
    variant_settings = spec.variants.get(point.variant, {}) if point.variant is not None else {}
    config_file = variant_settings.get(CONFIG_KEY, spec.base.get(CONFIG_KEY))
    config = Config() if config_file is None else load_config(resolve_path(spec.folder, config_file, where))
    base = {key: value for key, value in spec.base.items() if key != CONFIG_KEY}
    config = config.layer([], f"{spec.where}: base", **base) if base else config
    settings = {key: value for key, value in point.settings.items() if key != CONFIG_KEY}
    return config.layer([], where, **nested({**settings, "train.seed": point.seed}))


def resolve_path(folder: Path, path: str, where: str) -> Path:
    """A config file named in a sweep file: relative to the sweep file's folder, else as given."""
    candidate = folder / path
    if candidate.is_file():
        return candidate
    if Path(path).is_file():
        return Path(path)
    raise UserError(f"{where}: config file {path!r} not found (looked in {folder} and the working folder)")


def nested(settings: dict[str, Any]) -> dict[str, dict]:
    """{'model.prior.components': 5, 'train.seed': 1} -> {'model': {'prior': {'components': 5}}, 'train': {'seed': 1}}."""
    sections: dict[str, dict] = {}
    for key, value in settings.items():
        *path, last = key.split(".")
        node = sections
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return sections


def check_builds(config: Config, where: str, prepared_by_data: dict) -> None:
    """Build ``config``'s model and objective on its data (loaded once per data section, on the CPU),
    leaving the random state as it was; a part's range error is raised naming ``where``."""
    key = repr(config.data)
    try:
        if key not in prepared_by_data:
            prepared_by_data[key] = prepare_data(config, None, torch.device("cpu"))
        prepared = prepared_by_data[key]
        used = stored_as_used(config, prepared)
        with seeded(0, "cpu"):
            build_objective(used.objective, build_model(used.model, prepared.train.shape))
    except UserError as error:
        raise UserError(f"{where}: {error}") from None
