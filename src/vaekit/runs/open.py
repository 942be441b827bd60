"""Opening a trained run folder: its best model, its data transform, and the split to evaluate on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from ..config import Config
from ..data.array import ArrayData
from ..data.binarize import binarize_once
from ..data.example_file import read_example
from ..errors import UserError
from ..models.model import LatentVariableModel
from ..rundir import RunDir
from ..training.checkpoint import load_model
from .prepared import PreparedData, binarize_seed, check_shape, prepare_data, resolve_device


@dataclass
class DataUnits:
    """The map from model space back to the data's units: x_units = x / scale + shift.

    shift, scale: (F,) per table column or scalars (one value) for images; columns: table header or None.
    """

    shift: torch.Tensor
    scale: torch.Tensor
    columns: list[str] | None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        shift, scale = self._broadcast(x)
        return x / scale + shift

    def to_model(self, x_units: torch.Tensor) -> torch.Tensor:
        """The inverse map, (x_units - shift) * scale: values in the data's units as the model takes them."""
        shift, scale = self._broadcast(x_units)
        return (x_units - shift) * scale

    def _broadcast(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """shift and scale shaped to broadcast over x (..., F) (per column) or any x (scalars), on x's device."""
        shape = (-1,) if self.shift.numel() > 1 else ()
        return self.shift.view(shape).to(x), self.scale.view(shape).to(x)


def load_units(run_dir: str | Path) -> DataUnits:
    """The data transform stored with a run's weights (so decoded table rows return to original units)."""
    data = RunDir.check(run_dir).data_metadata()
    return DataUnits(torch.tensor(data["shift"]), torch.tensor(data["scale"]), data["columns"])


def input_from_file(run_dir: str | Path, path: str | Path, shape: tuple[int, ...]) -> torch.Tensor:
    """A model input (*shape) read from FILE.npy or an image file (``vaekit.data.example_file.read_example``);
    a table row is given in the table's own units and standardised as in training."""
    x = read_example(path, shape)
    units = load_units(run_dir)
    return units.to_model(x) if units.columns is not None else x


def class_names(run_dir: str | Path) -> list[str] | None:
    """The names of a run's labels 0..L-1 when its data named them (class folders, photo-patches), else None."""
    return RunDir.check(run_dir).data_metadata().get("classes")


def resolve_label(run_dir: str | Path, model, text: str) -> int:
    """A label given on the command line (a class name, or an index) as the index a conditional model takes;
    a UserError for a model that is not conditional, an unknown name, or a label training never saw."""
    if not model.classes:
        raise UserError(f"--label {text}: this run's model is not conditional; train with --conditional to choose the class")
    data = RunDir.check(run_dir).data_metadata()
    names, seen = data.get("classes") or [], data.get("labels_seen") or list(range(model.classes))
    if text in names:
        index = names.index(text)
    elif text.lstrip("-").isdigit():
        index = int(text)
    else:
        known = ", ".join(names) if names else f"indices {', '.join(map(str, seen))}"
        raise UserError(f"--label {text!r}: not a class of this run; known: {known}")
    if index not in seen:
        raise UserError(f"--label {text}: label {index} was never seen in training; the run saw labels {', '.join(map(str, seen))}")
    return index


def load(path: str | Path, device: str = "cpu", which: str = "model") -> LatentVariableModel:
    """The trained model (in eval mode) of a run folder (``which``: 'model' for the best weights, 'last'
    for the last ones) or of a checkpoint file written by ``save_model``. The one public ``load``
    (``vaekit.load``); ``vaekit.training.checkpoint.load_model`` also returns the config and metadata."""
    path = Path(path)
    if path.is_dir():
        path = RunDir.check(path).checkpoint(which)
    return load_model(path, device)[0]


@dataclass
class EvaluationData:
    """What ``open_run`` gives: the best model, the run's config, and the split to evaluate on."""

    model: LatentVariableModel
    config: Config
    data: ArrayData
    split: str  # test or validation
    binarize: str  # how that split was binarised, in words
    train: ArrayData | None  # the training split as prepared for training (for a probe); None if all is evaluated

    def describe(self) -> dict:
        return {"data": self.data.name, "split": self.split, "binarize": self.binarize}


def open_run(run_dir: str | Path, device: str = "auto", data_spec=None) -> EvaluationData:
    """The best model of a run folder with the data to evaluate, prepared (binarised, checked) as
    in training: the run's test split (else its validation split); or, with ``data_spec``, that
    source's test split, else every example of it in file order (same shape as the run's data)."""
    run = RunDir.check(run_dir)
    config = run.read_config()
    if data_spec is None and config.data.source == "arrays":
        raise UserError(f"{run_dir}: this run was trained on arrays passed in Python, which its folder does not hold; "
                        "give the data again (--data, in the commands that take it)")
    torch_device = resolve_device(device, "--device")
    model, _, _ = load_model(run.weights, torch_device)
    if data_spec is not None:  # nothing is held out of a file given to evaluate: score all of it
        config = config.replace(data={"validation": "none"})
    return evaluation_data(model, config, prepare_data(config, data_spec, torch_device, model.data_shape))


def evaluation_data(model: LatentVariableModel, config: Config, prepared: PreparedData) -> EvaluationData:
    """The model with the split to evaluate it on (see ``evaluation_split``), checked to fit its shape."""
    split, data, train = evaluation_split(prepared, config)
    check_shape(data, model.data_shape)
    binarize = prepared.binarize
    if binarize != "none":
        binarize += f" (the {split} split binarised once with seed {binarize_seed(config, split)})"
    return EvaluationData(model, config, data, split, binarize, train)


def evaluation_split(prepared: PreparedData, config: Config) -> tuple[str, ArrayData, ArrayData | None]:
    """(split name, data to evaluate, training split or None): test, else validation, else all."""
    if prepared.test is not None:
        return "test", prepared.test, prepared.train
    if prepared.val is not None:
        return "validation", prepared.val, prepared.train
    data = prepared.train
    if prepared.binarize == "dynamic":  # evaluated like a test split: binarised once, fixed seed
        data = binarize_once(data, binarize_seed(config, "test"))
    return "test", data, None
