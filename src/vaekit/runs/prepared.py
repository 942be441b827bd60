"""Data made ready for a run: loaded, split, binarised and checked once, before any training.

Training (``vaekit.runs.train``) and opening a trained run (``vaekit.runs.open``) prepare data the same way,
so a split evaluated later is the very draw that training validated on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from ..config import Config
from ..data import load_data
from ..data.array import ArrayData, holds_8_bit_levels
from ..data.binarize import binarize_once, check_unit_interval, resolve_mode
from ..data.streaming import StreamedData
from ..errors import UserError
from ..models.likelihoods import build_likelihood, chosen_likelihood
from ..training.batches import training_batches


@dataclass
class PreparedData:
    """Splits on the training device, binarised as the config says, checked against the likelihood."""

    train: ArrayData
    val: ArrayData | None
    test: ArrayData | None
    binarize: str  # the resolved mode: dynamic, static or none
    likelihood: str  # the resolved likelihood name


def resolve_device(name: str, option: str = "train.device") -> torch.device:
    """The torch device ``name`` says (auto: CUDA when there is one); errors name ``option``, the key or flag
    that gave it (training's train.device, the other commands' --device), and its fix in that form."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cpu", "cuda") and not name.startswith("cuda:"):
        raise UserError(f"{option} {name!r} is not one of: auto, cpu, cuda")
    if name.startswith("cuda") and not torch.cuda.is_available():
        fix = "--set train.device=cpu" if option == "train.device" else f"{option} cpu"
        raise UserError(f"{option} {name!r}: no CUDA device is available here; use {fix}")
    return torch.device(name)


def split_validation(data: ArrayData, fraction: float, seed: int) -> tuple[ArrayData, ArrayData | None]:
    """(training part, validation part or None): ``fraction`` of ``data`` held out, drawn with ``seed``;
    the range of ``fraction`` is DataConfig's to check."""
    n_val = int(round(fraction * len(data)))
    if n_val == 0:
        return data, None
    if n_val >= len(data):
        raise UserError(f"data.val_fraction {fraction:g}: holds out {n_val} of the {len(data)} training examples of "
                        f"{data.name}, leaving none to train on; choose a smaller fraction")
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    return data.subset(order[n_val:]), data.subset(order[:n_val])


def choose_validation(splits, config) -> tuple[ArrayData, ArrayData | None]:
    """(training data, validation data) as data.validation says: split, test or none."""
    if config.validation == "split":
        return split_validation(splits.train, config.val_fraction, config.split_seed)
    if config.validation == "none":
        return splits.train, None
    if config.validation == "test":
        if splits.test is None:
            raise UserError(f"{splits.train.name}: data.validation=test, but these data have no test split; use data.validation=split")
        return splits.train, splits.test
    raise UserError(f"data.validation {config.validation!r} is not one of: split, test, none")


def resolve_likelihood(name: str, data: ArrayData) -> str:
    """'auto': for colour images (more than one channel) the discretised logistic when they are 8-bit, the
    continuous Bernoulli for other levels in [0, 1] (colour is never binarised); Bernoulli (with binarisation)
    for other data in [0, 1] such as grey images, a unit Gaussian otherwise."""
    if name != "auto":
        return name
    colour = data.is_image and data.shape[0] > 1
    if colour and holds_8_bit_levels(data):
        return "discretized_logistic"
    x = data.support_sample()
    in_unit_interval = bool(((x >= 0) & (x <= 1)).all())
    if colour and in_unit_interval:
        return "continuous_bernoulli"
    return "bernoulli" if in_unit_interval else "gaussian"


def binarize_seed(config: Config, split: str) -> int:
    """The seed with which a split is binarised once: data.split_seed plus a fixed offset per split."""
    return config.data.split_seed + {"validation": 1, "test": 2, "train": 3}[split]


def check_shape(data: ArrayData, shape: tuple[int, ...]) -> None:
    """A UserError naming ``data`` and both shapes unless its examples have the model's ``shape``."""
    if data.shape != tuple(shape):
        raise UserError(f"{data.name}: examples of shape {data.shape} do not fit this model's shape {tuple(shape)}")


def prepare_data(config: Config, data_spec, device: torch.device, shape: tuple[int, ...] | None = None) -> PreparedData:
    """Load, split, binarise and check the data once, before any training; with ``shape`` (a trained model's),
    its examples are checked to have that shape first, before a likelihood's checks could blame their values."""
    splits = load_data(config.data.source if data_spec is None else data_spec, config.data)
    for part in (splits.train, splits.test):
        if shape is not None and part is not None:
            check_shape(part, shape)
    train, val = choose_validation(splits, config.data)
    likelihood_name = resolve_likelihood(config.model.likelihood.name, splits.train)
    mode = resolve_mode(config.data.binarize, likelihood_name, splits.train)
    fixed = lambda part, split: None if part is None else binarize_once(part, binarize_seed(config, split))  # noqa: E731
    if mode in ("dynamic", "static"):
        test = fixed(splits.test, "test")
        val = test if val is splits.test else fixed(val, "validation")  # validating on the test split: same draw
        train = fixed(train, "train") if mode == "static" else train
        if mode == "dynamic":
            check_unit_interval(train)
    else:
        test = splits.test
    likelihood = build_likelihood(chosen_likelihood(config.model.likelihood, likelihood_name), train.shape)
    checked = [("validation", val), ("test", test)] + ([] if mode == "dynamic" else [("training", train)])
    for part_name, part in checked:
        if part is not None:
            likelihood.check_support(part.support_sample(), likelihood_name, f"{part.name} ({part_name} split)")
    on = lambda part: None if part is None else part.to(device)  # noqa: E731
    test_on_device = on(test)
    val_on_device = test_on_device if val is test else on(val)  # one copy when validating on the test split
    return PreparedData(on(train), val_on_device, test_on_device, mode, likelihood_name)


def make_batches(prepared: PreparedData, batch_size: int, device: torch.device, steps: int = 0,
                 labels: torch.Tensor | None = None, sharded: bool = False, seed: int = 0):
    """The training split's batches from the one factory (``training_batches``): dynamically binarised
    when the run binarises so, with ``labels`` (N,) for a conditional model; ``steps`` > 0 cuts each
    epoch to that many batches (train.steps_per_epoch); ``sharded``: this rank's shares, seeded by ``seed``."""
    return training_batches(prepared.train, batch_size, device, dynamic_binarize=prepared.binarize == "dynamic",
                            steps=steps, labels=labels, sharded=sharded, seed=seed)


def training_inputs(config: Config, prepared: PreparedData) -> Callable[[], torch.Tensor]:
    """The training split (N, *shape) as the encoder sees it, computed only when a prior asks for
    it (the exemplar prior takes its exemplars from it); streamed data cannot be held, so it is refused."""

    def inputs() -> torch.Tensor:
        train = prepared.train
        if isinstance(train, StreamedData):
            raise UserError(f"{train.name}: prior {config.model.prior.name!r} takes exemplars from the training data and "
                            "needs it in memory, but this run streams it from the files; set data.stream=never "
                            "(if it fits) or choose another prior")
        if prepared.binarize == "dynamic":
            # The encoder only ever sees binary inputs (training batches resampled from the grey levels,
            # validation and test binarised once), never grey levels: so the exemplars are one fixed
            # binarisation, the draw a static run would train on (the training split's seed, on the CPU
            # as in prepare_data, so the draw does not depend on the training device).
            train = binarize_once(train.to("cpu"), binarize_seed(config, "train"))
        return train.inputs()  # (N, *shape) float32: (values - shift) * scale, as in the batches

    return inputs


