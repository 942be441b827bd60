"""Run configuration: frozen dataclasses of hyperparameters, strict to load, easy to override.

The config is stored unchanged (defaults included) in the run folder and in every checkpoint.
Unknown keys and wrong types are rejected with the list of known keys.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import UserError


@dataclass(frozen=True)
class ModelConfig:
    name: str = "vae"  # a registered model (MODELS; vaekit train --help lists them)
    trunk: str = "mlp"  # a registered trunk (TRUNKS): mlp for any shape, conv for images C x H x W
    latent_dim: int = 16
    hidden: tuple[int, ...] = (512, 256)  # mlp widths, input side first
    channels: tuple[int, ...] = (32, 64)  # conv channels, input side first; each halves H and W
    likelihood: str = "auto"  # registered likelihood of p(x|z); auto: discretized_logistic for 8-bit colour, bernoulli for [0, 1], else gaussian
    sigma: float = 1.0  # the fixed standard deviation of the 'gaussian' likelihood
    prior: str = "normal"  # a registered prior p(z) (PRIORS)
    prior_components: int = 0  # K of the mog / vamp / exemplar prior; 0: the prior's default (mog 10, vamp and exemplar 500)
    gated: bool = False  # gated layers h = (W1 x + b1) * sigmoid(W2 x + b2) in the mlp / conv trunks
    # vqvae (vaekit.models.vq): a grid of code vectors of width latent_dim, one per position of the conv trunk's
    # deepest feature map, or code_positions of them for other trunks
    codebook_size: int = 512  # vqvae: number of code vectors
    code_positions: int = 8  # vqvae with a trunk other than conv: code vectors per example
    commitment: float = 0.25  # vqvae: weight of the commitment term ||z_e - sg[e]||^2
    codebook_ema: bool = False  # vqvae: codebook by moving averages (decay 0.99) instead of its loss term
    codebook_restart: int = 100  # vqvae: training batches a code may go unused before it is reset to an encoder output; 0: never
    code_prior_hidden: int = 128  # vqvae: width of the code prior (a GRU over the code grid), see vaekit fit-code-prior
    code_prior_layers: int = 1  # vqvae: GRU layers of the code prior
    # vqvae quantisers (vaekit.models.quantisers); an option the chosen quantiser does not use must keep its default
    quantizer: str = "nearest"  # vqvae: a registered quantiser: nearest (one codebook), residual (codebooks stages), fsq
    fsq_levels: tuple[int, ...] = (8, 5, 5, 5)  # fsq: levels per dimension (each >= 2); codes = their product
    codebooks: int = 1  # residual: stages, each quantising what the ones before left, with its own codebook
    codebook_init: str = "uniform"  # nearest, residual: uniform (small random codes) or kmeans (on the first batch's encoder outputs)
    codebook_cosine: bool = False  # nearest, residual: unit-norm codes chosen by cosine similarity to the normalised input
    codebook_dim: int = 0  # nearest, residual: codebook width with linear projections in and out; 0: latent_dim, none
    gradient: str = "straight_through"  # nearest, residual: straight_through or rotation (the rotation trick)
    code_prior_epochs: int = 5  # vqvae: epochs of fitting the code prior when training ends (resumable); 0: none
    mixtures: int = 1  # discretized_logistic: logistic components per sub-pixel (PixelCNN++ uses 5 to 10)
    channel_coupling: bool = False  # discretized_logistic on RGB: green and blue means depend on red (PixelCNN++)
    conditional: bool = False  # vae / ae: encoder q(z|x, y) and decoder p(x|z, y) see the one-hot class label y
    classes: int = 0  # conditional: number of classes (0: set from the training labels, max label + 1)


@dataclass(frozen=True)
class ObjectiveConfig:
    name: str = "auto"  # registered objective; auto: the model's own (elbo for vae, reconstruction for ae)
    beta: float = 1.0  # weight of the KL term (beta-VAE when != 1)
    warmup_epochs: int = 0  # beta rises linearly from 0 to its target over this many epochs
    free_bits: float = 0.0  # floor, in nats, on the batch-mean KL of each latent dimension
    k: int = 5  # importance samples per example of the 'iwae' objective (other objectives reject a change)
    # the disentangling objectives (vaekit.objectives: beta_tcvae, factorvae, capacity, dip_vae_i, dip_vae_ii); with
    # beta above, which weights the total correlation in beta_tcvae. Others reject a change of these.
    alpha: float = 1.0  # beta_tcvae: weight of the index-code mutual information
    gamma: float = 1.0  # beta_tcvae: dimension-wise KL weight; factorvae: TC weight (35 on dSprites); capacity: weight of |KL - C|
    tc_estimator: str = "mss"  # beta_tcvae: log q(z) by minibatch stratified (mss) or minibatch weighted (mws) sampling
    discriminator_hidden: int = 1000  # factorvae: width of each hidden layer of the TC discriminator
    discriminator_layers: int = 6  # factorvae: hidden layers of the TC discriminator (leaky ReLU)
    discriminator_lr: float = 1e-4  # factorvae: the discriminator's Adam step size (betas 0.5, 0.9)
    capacity_max: float = 25.0  # capacity: the KL target C rises linearly from 0 to this (nats) ...
    capacity_steps: int = 100_000  # capacity: ... over this many training steps, then stays
    lambda_od: float = 10.0  # dip_vae_i / dip_vae_ii: weight of the squared off-diagonal covariances
    lambda_d: float = 100.0  # dip_vae_i / dip_vae_ii: weight of the squared (diagonal - 1) covariances


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


@dataclass(frozen=True)
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, values: dict[str, Any], where: str = "config") -> "Config":
        return _build(cls, values, where)

    def override(self, assignments: list[str], where: str = "--set") -> "Config":
        """Apply 'section.key=value' strings; values are parsed as YAML scalars or lists."""
        values = self.to_dict()
        for assignment in assignments:
            path, value = _parse_assignment(assignment, where)
            _assign(values, path, value, where)
        return Config.from_dict(values, where)

    def replace(self, **sections: dict[str, Any]) -> "Config":
        """A copy with some fields of some sections changed: ``cfg.replace(train={"epochs": 5})``."""
        values = self.to_dict()
        for section, changes in sections.items():
            _check_known(section, values, "Config.replace: config")
            for key, value in changes.items():
                _assign(values, [section, key], value, "Config.replace")
        return Config.from_dict(values, "Config.replace")


def load_config(path: str | Path) -> Config:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: config file not found; pass the path of a YAML file written by vaekit")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML ({exc}); fix the syntax") from None
    if not isinstance(values, dict):
        raise UserError(f"{path}: expected a mapping of sections (model, objective, data, train)")
    return Config.from_dict(values, str(path))


def save_config(config: Config, path: str | Path) -> None:
    from .files import atomic_write_text

    atomic_write_text(path, dump_config(config))


def dump_config(config: Config) -> str:
    return yaml.safe_dump(config.to_dict(), sort_keys=False)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(item) for item in value]
    return value


def _check_known(key: str, known: dict | list, where: str) -> None:
    if key not in known:
        names = ", ".join(sorted(known))
        raise UserError(f"{where}: unknown key {key!r}; known keys: {names}")


def _build(cls: type, values: Any, where: str, path: str = "") -> Any:
    if not isinstance(values, dict):
        raise UserError(f"{where}: {path or 'config'} must be a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in values.items():
        _check_known(key, fields, f"{where}: {path.rstrip('.') or 'config'}")
        kwargs[key] = _coerce(hints[key], value, where, f"{path}{key}")
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, where: str, path: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where, f"{path}.")
    origin = typing.get_origin(hint)
    if origin is tuple:
        (item_type, _) = typing.get_args(hint)
        if not isinstance(value, (list, tuple)):
            value = [value]
        return tuple(_coerce(item_type, item, where, path) for item in value)
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"{where}: {path}: union types are not supported in configs")
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise UserError(f"{where}: {path} must be {hint.__name__}, got {value!r} ({type(value).__name__})")
    return value


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
    return key.strip().split("."), value


def _assign(values: dict, path: list[str], value: Any, where: str) -> None:
    if len(path) != 2:
        raise UserError(f"{where} {'.'.join(path)!r}: expected section.key, e.g. train.epochs")
    section, key = path
    _check_known(section, values, f"{where}: config")
    _check_known(key, values[section], f"{where}: {section}")
    values[section][key] = value
