"""Run configuration: hyperparameters nested by part, strict to load, easy to override.

``model`` and ``objective`` hold each part's name and options (``model.prior.components``), checked
against the registered parts' own signatures by one validator (``config.options``); ``data`` and
``train`` are frozen dataclasses. The config is stored resolved (every default filled in for the
chosen parts) in the run folder and in every checkpoint. Unknown keys and wrong types are rejected
with the list of known keys. Files of vaekit 0.1 (flat sections) are migrated on read
(``config.migration``).
"""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..errors import UserError
from .migration import migrate, migrate_model, translate_flat_key
from .options import SECTIONS, coerce, resolve_part
from .ranges import SEED
from .section import Section, part, plain

SECTION_NAMES = ("model", "objective", "data", "train")
EXPONENT_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


@dataclass(frozen=True)
class DataConfig:
    source: str = "digits"  # a registered source (SOURCES) as NAME or NAME:ARGUMENT, FILE.npy/.npz/.csv, an IDX or image folder
    binarize: str = "auto"  # auto, dynamic, static, none; auto = dynamic for bernoulli on grey levels
    validation: str = "split"  # split: hold out val_fraction of the training data; test: the source's test split; none
    val_fraction: float = 0.1  # share of the training data held out for validation (validation=split)
    image_size: str = ""  # HxW to resize a folder of images to, e.g. 28x28
    label_column: str = ""  # the CSV column holding labels, if any
    split_seed: int = 0  # seed of the train/validation split and of the fixed test binarisation
    stream: str = "auto"  # image folders: auto (stream from files when they do not fit in memory), always, never

    def __post_init__(self) -> None:
        check_range("data.val_fraction", self.val_fraction, "at least 0 and below 1 (0: no validation split)",
                    0 <= self.val_fraction < 1)
        SEED.check("data.split_seed", self.split_seed)


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 30
    batch_size: int = 128
    lr: float = 1e-3
    lr_schedule: str = "constant"  # constant or cosine
    grad_clip: float = 0.0  # max gradient norm; 0 disables clipping
    patience: int = 0  # early stopping after this many epochs without a better validation ELBO; 0 disables
    seed: int = 0
    device: str = "auto"  # auto, cpu, cuda
    report: bool = True  # end training by evaluating the best model and writing report.html
    precision: str = "fp32"  # fp32, or bf16: bfloat16 autocast for the trunks (GPUs); probabilities stay float32
    steps_per_epoch: int = 0  # > 0: an epoch is this many batches of a fresh shuffle (large data sets); 0: a full pass

    def __post_init__(self) -> None:
        """The ranges (types are checked by ``coerce``, finiteness of floats too): a UserError naming the key."""
        check_range("train.epochs", self.epochs, "at least 1", self.epochs >= 1)
        check_range("train.batch_size", self.batch_size, "at least 1", self.batch_size >= 1)
        check_range("train.lr", self.lr, "a finite number above 0", math.isfinite(self.lr) and self.lr > 0)
        check_range("train.grad_clip", self.grad_clip, "a finite number, at least 0 (0: no clipping)",
                    math.isfinite(self.grad_clip) and self.grad_clip >= 0)
        check_range("train.patience", self.patience, "at least 0 (0: no early stopping)", self.patience >= 0)
        check_range("train.steps_per_epoch", self.steps_per_epoch, "at least 0 (0: a full pass)",
                    self.steps_per_epoch >= 0)
        SEED.check("train.seed", self.seed)  # torch, NumPy and scikit-learn all take it


def check_range(key: str, value: Any, allowed: str, ok: bool) -> None:
    """A one-line UserError naming ``key``, ``value`` and the ``allowed`` range unless ``ok``."""
    if not ok:
        raise UserError(f"{key} must be {allowed}, got {value!r}")


@dataclass(frozen=True)
class Config:
    """The run's settings. ``model`` and ``objective`` are Sections nested by part (``model.prior.components``),
    resolved against the registered parts' signatures (every option present, defaults filled in);
    ``data`` and ``train`` are plain dataclasses. Building one validates it (a UserError otherwise)."""

    model: Section = field(default_factory=Section)
    objective: Section = field(default_factory=Section)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        model, objective = resolve_sections(self.model, self.objective, given=None)
        object.__setattr__(self, "model", model)
        object.__setattr__(self, "objective", objective)

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model.to_dict(), "objective": self.objective.to_dict(),
                "data": plain(dataclasses.asdict(self.data)), "train": plain(dataclasses.asdict(self.train))}

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "config") -> "Config":
        """A config from a mapping of sections (a YAML file, a checkpoint's metadata); 0.1's flat
        layout is migrated first (``config.migration``)."""
        if not isinstance(values, Mapping):
            raise UserError(f"{where}: expected a mapping of sections (model, objective, data, train), got {values!r}")
        return _from_tree(migrate(values), where, given=None)

    def override(self, assignments: list[str], where: str = "--set") -> "Config":
        """Apply 'section.key=value' strings (keys nest: model.prior.components=5); values are parsed as
        YAML scalars or lists. See ``_assign`` for part names and the layering rule."""
        return self.layer(assignments, where)

    def replace(self, **sections: dict[str, Any]) -> "Config":
        """A copy with some settings changed, in the layering of ``override``:
        ``cfg.replace(train={"epochs": 5}, model={"prior": {"name": "mog", "components": 3}})``."""
        return self.layer([], "Config.replace", **sections)

    def layer(self, assignments: list[str], where: str = "--set", **sections: dict[str, Any]) -> "Config":
        """One layer over this config: the 'section.key=value' ``assignments``, then the ``sections``
        (as ``replace``), validated together once all are applied (so ``--set objective.gamma=3`` and
        ``--objective beta_tcvae`` may come in either order)."""
        values, given = self.to_dict(), set()
        for assignment in assignments:
            path, value = _parse_assignment(assignment, where)
            _assign(values, path, value, where, given)
        for section, changes in sections.items():
            _check_known(section, values, f"{where}: config")
            for key, value in changes.items():
                _assign(values, [section, key], value, where, given)
        return _from_tree(values, where, given)


def resolve_sections(model: Any, objective: Any, given: set[str] | None) -> tuple[Section, Section]:
    """(model, objective) Sections validated against the registered parts (``config.options``);
    objective 'auto' is checked as the model's default objective and stays 'auto'."""
    model = resolve_part(SECTIONS["model"], model, "model", given, default=part("vae"))
    default_objective = SECTIONS["model"].facts(model.name).get("objective")
    objective = resolve_part(SECTIONS["objective"], objective, "objective", given, default=part("auto"),
                             auto_name=default_objective)
    return model, objective


def ModelConfig(**values: Any) -> Section:
    """The model section from keyword arguments: kept from 0.1 for scripts, flat names accepted
    (``ModelConfig(latent_dim=3, hidden=(16,))``) and migrated. New code: ``Config().replace(model=...)``."""
    return Config.from_dict({"model": migrate_model(values)}, "ModelConfig").model


def ObjectiveConfig(**values: Any) -> Section:
    """The objective section from keyword arguments, kept from 0.1; validated when built against its model."""
    return Section({"name": "auto", **values})


def load_config(path: str | Path) -> Config:
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a folder, not a config file; pass the path of a YAML file "
                        "(e.g. RUN_DIR/config.yaml)")
    if not path.is_file():
        raise UserError(f"{path}: config file not found; pass the path of a YAML file written by vaekit")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UserError(yaml_error(path, exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot be read as a YAML text file ({exc})") from None
    if not isinstance(values, dict):
        raise UserError(f"{path}: expected a mapping of sections (model, objective, data, train)")
    return Config.from_dict(values, str(path))


def yaml_error(path: Path, error: yaml.YAMLError) -> str:
    """One line for a YAML syntax error: 'FILE:LINE:COLUMN: reason' (1-based, as editors count), from the mark
    of the problem that the parser records; PyYAML's own text spans several lines."""
    mark, reason = None, str(error)
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        reason = " ".join(part for part in (error.context, error.problem) if part) or reason
    reason = " ".join(reason.split())  # one line
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    return f"{where}: not valid YAML: {reason}; fix the syntax"


def save_config(config: Config, path: str | Path) -> None:
    from ..files import atomic_write_text

    atomic_write_text(path, dump_config(config))


def dump_config(config: Config) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False)


def _check_known(key: str, known: dict | list, where: str) -> None:
    if key not in known:
        names = ", ".join(sorted(known))
        raise UserError(f"{where}: unknown key {key!r}; known keys: {names}")


def _from_tree(values: Mapping[str, Any], where: str, given: set[str] | None) -> Config:
    """A Config from nested plain values; errors from the parts' validator name ``where`` first."""
    for section in values:
        _check_known(section, SECTION_NAMES, f"{where}: config")
    try:
        model, objective = resolve_sections(values.get("model", {}), values.get("objective", {}), given)
    except UserError as error:
        raise UserError(f"{where}: {error}") from None
    data = _build(DataConfig, values.get("data", {}), where, "data.")
    train = _build(TrainConfig, values.get("train", {}), where, "train.")
    return Config(model, objective, data, train)


def _build(cls: type, values: Any, where: str, path: str) -> Any:
    """A DataConfig or TrainConfig from a mapping, each value checked against the field's type."""
    if not isinstance(values, Mapping):
        raise UserError(f"{where}: {path.rstrip('.')} must be a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        _check_known(key, fields, f"{where}: {path.rstrip('.')}")
        try:
            kwargs[key] = coerce(hints[key], value, f"{path}{key}")
        except UserError as error:
            raise UserError(f"{where}: {error}") from None
    try:
        return cls(**kwargs)
    except UserError as error:  # a range check of the dataclass
        raise UserError(f"{where}: {error}") from None


def _parse_assignment(assignment: str, where: str) -> tuple[list[str], Any]:
    key, sep, text = assignment.partition("=")
    if not sep or not key:
        raise UserError(f"{where} {assignment!r}: expected section.key=value, e.g. model.latent_dim=32")
    try:
        value = yaml.safe_load(text) if text else ""
    except yaml.YAMLError:
        value = text
    if value is None:
        value = ""
    if isinstance(value, str) and EXPONENT_FLOAT.fullmatch(value):
        value = float(value)  # YAML 1.1 reads 1e-4 (no dot) as text; on the command line it means the number
    return key.strip().split("."), value


def _assign(values: dict, path: list[str], value: Any, where: str, given: set[str]) -> None:
    """Set ``path`` (section, key, ...) to ``value`` in the plain tree ``values``, recording it in ``given``.

    A plain value for a part (``model.trunk=conv``) sets its name; a mapping merges key by key. Old
    flat model keys are translated (``model.prior_components`` -> ``model.prior.components``).
    The layering rule (``config.options.resolve_part``): when a layer changes a part's name, the
    options a lower layer set for the old part that the new one does not take are dropped; options
    set in the same layer are checked against the new part (an error if it does not take them)."""
    dotted = ".".join(path)
    section = path[0]
    _check_known(section, values, f"{where}: config")
    if section in ("data", "train"):
        if len(path) != 2:
            raise UserError(f"{where} {dotted!r}: expected {section}.key, e.g. train.epochs")
        _check_known(path[1], values[section], f"{where}: {section}")
        values[section][path[1]] = value
        return
    if len(path) < 2:
        raise UserError(f"{where} {dotted!r}: expected {section}.key, e.g. model.latent_dim or model.prior.name")
    path = translate_flat_key(path, value)
    if path is None:
        return
    node = values
    for key in path[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise UserError(f"{where} {dotted!r}: {key} is a value, not a part with options")
    last, current = path[-1], node.get(path[-1])
    if isinstance(value, Mapping):
        for key, item in value.items():
            _assign(values, [*path, key], item, where, given)
    elif isinstance(current, dict):
        current["name"] = value
        given.add(".".join([*path, "name"]))
    else:
        node[last] = value
        given.add(".".join(path))
