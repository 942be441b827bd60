"""A training run: data, model and trainer wired together, written to one run folder.

run folder/
  config.yaml         the exact config used, defaults included
  run.json            versions, data source and shape, binarisation, device, hardware (CPU model or GPU name), status
  model.safetensors   best weights (by validation ELBO) with config and data transform
  last.safetensors    last weights plus optimizer, schedule, RNG and trainer state (resume)
  metrics.csv         one row per epoch
  curves.png, reconstructions.png, samples.png
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from . import resume as resume_state
from .batches import ResidentBatches, StreamingBatches
from .binarize import binarize_once, check_unit_interval, resolve_mode
from .checkpoint import hardware, load_model, load_tensors, read_metadata, save_model, versions
from .config import Config, load_config, save_config
from .data import load_data
from .data.array import ArrayData
from .data.streaming import StreamedData
from .errors import UserError
from .figures import comparison_grid, image_grid, training_curves
from .io import atomic_write_json, atomic_write_text
from .likelihoods import LIKELIHOODS
from .model import LatentVariableModel, build_model
from .objectives import build_objective
from .priors import Prior
from .seeding import seeded
from .tensorboard import EpochWriter
from .trainer import Trainer, TrainState, make_optimizer, make_schedule

# The common settings as keyword arguments / command-line flags: name -> (section, key).
FLAG_FIELDS = {
    "model": ("model", "name"),
    "latent_dim": ("model", "latent_dim"),
    "likelihood": ("model", "likelihood"),
    "trunk": ("model", "trunk"),
    "prior": ("model", "prior"),
    "objective": ("objective", "name"),
    "beta": ("objective", "beta"),
    "epochs": ("train", "epochs"),
    "batch_size": ("train", "batch_size"),
    "lr": ("train", "lr"),
    "seed": ("train", "seed"),
    "device": ("train", "device"),
}


@dataclass
class Run:
    """A finished (or stopped) run: its folder, best model, config, prepared data and state."""

    dir: Path
    model: LatentVariableModel
    config: Config
    state: TrainState
    data: "PreparedData"


@dataclass
class PreparedData:
    """Splits on the training device, binarised as the config says, checked against the likelihood."""

    train: ArrayData
    val: ArrayData | None
    test: ArrayData | None
    binarize: str  # the resolved mode: dynamic, static or none
    likelihood: str  # the resolved likelihood name


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cpu", "cuda") and not name.startswith("cuda:"):
        raise UserError(f"train.device {name!r} is not one of: auto, cpu, cuda")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"train.device {name!r}: no CUDA device is available here; use --set train.device=cpu")
    return torch.device(name)


def apply_flags(config: Config, **flags) -> Config:
    """Config with the FLAG_FIELDS keyword arguments that are not None applied."""
    sections: dict[str, dict] = {}
    for flag, value in flags.items():
        if flag not in FLAG_FIELDS:
            raise UserError(f"unknown setting {flag!r}; known: {', '.join(FLAG_FIELDS)} (or pass a Config)")
        if value is not None:
            section, key = FLAG_FIELDS[flag]
            sections.setdefault(section, {})[key] = value
    return config.replace(**sections)


def split_validation(data: ArrayData, fraction: float, seed: int) -> tuple[ArrayData, ArrayData | None]:
    if not 0 <= fraction < 1:
        raise UserError(f"data.val_fraction must be in [0, 1), got {fraction}")
    n_val = int(round(fraction * len(data)))
    if n_val == 0:
        return data, None
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
    """'auto': Bernoulli (with binarisation) for data in [0, 1] such as images, a unit Gaussian otherwise."""
    if name != "auto":
        return name
    x = data.support_sample()
    return "bernoulli" if bool(((x >= 0) & (x <= 1)).all()) else "gaussian"


def binarize_seed(config: Config, split: str) -> int:
    """The seed with which a split is binarised once: data.split_seed plus a fixed offset per split."""
    return config.data.split_seed + {"validation": 1, "test": 2, "train": 3}[split]


def prepare_data(config: Config, data_spec, device: torch.device) -> PreparedData:
    """Load, split, binarise and check the data once, before any training."""
    splits = load_data(config.data.source if data_spec is None else data_spec, config.data)
    train, val = choose_validation(splits, config.data)
    likelihood_name = resolve_likelihood(config.model.likelihood, splits.train)
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
    likelihood = LIKELIHOODS.get(likelihood_name)(train.shape, config.model)
    checked = [("validation", val), ("test", test)] + ([] if mode == "dynamic" else [("training", train)])
    for part_name, part in checked:
        if part is not None:
            likelihood.check_support(part.support_sample(), likelihood_name, f"{part.name} ({part_name} split)")
    on = lambda part: None if part is None else part.to(device)  # noqa: E731
    test_on_device = on(test)
    val_on_device = test_on_device if val is test else on(val)  # one copy when validating on the test split
    return PreparedData(on(train), val_on_device, test_on_device, mode, likelihood_name)


def make_batches(prepared: PreparedData, batch_size: int, device: torch.device):
    """The fast path for data held in memory, the streaming path for data read from files."""
    dynamic = prepared.binarize == "dynamic"
    if isinstance(prepared.train, StreamedData):
        return StreamingBatches(prepared.train, batch_size, dynamic, device)
    return ResidentBatches(prepared.train, batch_size, dynamic)


def new_run_dir(config: Config, out: str | Path | None) -> Path:
    if out is None:
        name = config.data.source.replace("/", "_").replace(":", "_").strip("._") or "data"
        out = Path("runs") / f"{config.model.name}-{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise UserError(f"{out}: the run folder exists and is not empty; choose another --out or --resume {out}")
    out.mkdir(parents=True, exist_ok=True)
    return out


def data_metadata(data: PreparedData) -> dict:
    """The data transform and names stored with the weights, so decoded values return to data units."""
    train = data.train
    return {
        "data": {
            "name": train.name,
            "shape": list(train.shape),
            "shift": train.shift.cpu().flatten().tolist(),
            "scale": train.scale.cpu().flatten().tolist(),
            "columns": train.columns,
            "binarize": data.binarize,
        }
    }


def write_metrics(run_dir: Path, history: list[dict]) -> None:
    """metrics.csv rewritten whole from the history (atomic), so it always matches the checkpoint."""
    names = list(dict.fromkeys(key for row in history for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names)
    writer.writeheader()
    writer.writerows(history)
    atomic_write_text(run_dir / "metrics.csv", buffer.getvalue())


def write_figures(run_dir: Path, model: LatentVariableModel, data: PreparedData, history: list[dict]) -> None:
    shown = (data.test or data.val or data.train).inputs(slice(0, 32))
    model.eval()
    comparison_grid(shown, model.reconstruct(shown).cpu(), run_dir / "reconstructions.png", "inputs and reconstructions")
    if model.prior is not None:
        with seeded(0, next(model.parameters()).device):
            image_grid(model.sample(64).cpu(), run_dir / "samples.png", 8, "samples from the prior")
    if history:
        training_curves(history, run_dir / "curves.png")


def train(
    config: Config | str | Path | None = None,
    data=None,
    out: str | Path | None = None,
    resume: str | Path | None = None,
    on_step: Callable | None = None,
    on_epoch: Callable | None = None,
    **flags,
) -> Run:
    """Train a model and write its run folder; returns the ``Run``.

    config: a Config, a YAML path, or None for the defaults; flags (model, latent_dim, likelihood,
    trunk, prior, objective, beta, epochs, batch_size, lr, seed, device) override it. data: a ``--data`` string, an
    array/tensor (N, ...) or (inputs, labels); None uses config.data.source. resume: a run folder
    to continue (its stored config is used; pass ``data`` again if it was given as arrays).
    """
    if resume is not None:
        if config is not None or flags:
            raise UserError("--resume continues a run with its stored config; drop the other settings")
        run_dir = Path(resume)
        config = load_config(run_dir / "config.yaml")
    else:
        config = config if isinstance(config, Config) else (Config() if config is None else load_config(config))
        config = apply_flags(config, **flags)
        if data is not None and not isinstance(data, str):
            config = config.replace(data={"source": "arrays"})
        elif data is not None:
            config = config.replace(data={"source": data})
    device = resolve_device(config.train.device)
    prepared = prepare_data(config, data, device)
    config = config.replace(model={"likelihood": prepared.likelihood})  # the run folder stores what was used
    if resume is None:
        run_dir = new_run_dir(config, out)
    return _fit(config, prepared, run_dir, device, resume is not None, on_step, on_epoch)


def _fit(config, prepared, run_dir, device, resuming, on_step, on_epoch) -> Run:
    with seeded(config.train.seed, device):
        model = build_model(config.model, prepared.train.shape).to(device)
        if not resuming and isinstance(model.prior, Prior):  # on resume the checkpoint holds what it took
            exemplar_generator = torch.Generator().manual_seed(config.train.seed)  # the global stream is left alone
            model.prior.take_exemplars(training_inputs(config, prepared), exemplar_generator)
        objective = build_objective(config.objective, model)
        optimizer = make_optimizer(model, config.train.lr, device)
        schedule = make_schedule(optimizer, config.train.lr_schedule, config.train.epochs)
        state = _restore(run_dir, model, optimizer, schedule, device) if resuming else None
        if not resuming:
            save_config(config, run_dir / "config.yaml")
        extra = data_metadata(prepared)
        atomic_write_json(run_dir / "run.json", {"versions": versions(), "device": str(device),
                                               "hardware": hardware(device), **extra})
        trainer = Trainer(model, objective, config.train, optimizer, schedule, state)
        batches = make_batches(prepared, config.train.batch_size, device)
        events = EpochWriter(run_dir)

        def save_epoch(state: TrainState, improved: bool) -> None:
            if improved:
                save_model(run_dir / "model.safetensors", model, config, extra)
            tensors, metadata = resume_state.pack(optimizer, schedule, state, device)
            save_model(run_dir / "last.safetensors", model, config, {**extra, **metadata}, tensors)
            write_metrics(run_dir, state.history)
            events.write(state.history[-1])
            if on_epoch is not None:
                on_epoch(state)

        try:
            state = trainer.fit(batches, prepared.val, on_step, save_epoch)
        finally:
            events.close()
    best, _, _ = load_model(run_dir / "model.safetensors", device) if state.epoch else (model, None, None)
    write_figures(run_dir, best, prepared, state.history)
    if config.train.report:
        from .report import write_report  # the report pulls in the evaluation and latent tools

        write_report(run_dir, opened=evaluation_data(best, config, prepared))
    return Run(run_dir, best, config, state, prepared)


def training_inputs(config: Config, prepared: PreparedData) -> Callable[[], torch.Tensor]:
    """The training split (N, *shape) as the encoder sees it, computed only when a prior asks for
    it (the exemplar prior takes its exemplars from it); streamed data cannot be held, so it is refused."""

    def inputs() -> torch.Tensor:
        train = prepared.train
        if isinstance(train, StreamedData):
            raise UserError(f"{train.name}: prior {config.model.prior!r} takes exemplars from the training data and "
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


def _restore(run_dir: Path, model, optimizer, schedule, device) -> TrainState:
    tensors, metadata = load_tensors(run_dir / "last.safetensors")
    model.load_state_dict(resume_state.model_tensors(tensors))
    return resume_state.unpack(tensors, metadata, optimizer, schedule, device)


@dataclass
class DataUnits:
    """The map from model space back to the data's units: x_units = x / scale + shift.

    shift, scale: (F,) per table column or scalars (one value) for images; columns: table header or None.
    """

    shift: torch.Tensor
    scale: torch.Tensor
    columns: list[str] | None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        shape = (-1,) if self.shift.numel() > 1 else ()
        return x / self.scale.view(shape).to(x) + self.shift.view(shape).to(x)


def load_units(run_dir: str | Path) -> DataUnits:
    """The data transform stored with a run's weights (so decoded table rows return to original units)."""
    data = read_metadata(Path(run_dir) / "model.safetensors")["data"]
    return DataUnits(torch.tensor(data["shift"]), torch.tensor(data["scale"]), data["columns"])


def load(run_dir: str | Path, device: str = "cpu", which: str = "model") -> LatentVariableModel:
    """The trained model of a run folder (``which``: 'model' for the best weights, 'last')."""
    path = Path(run_dir)
    if path.is_dir():
        path = path / f"{which}.safetensors"
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
    run_dir = Path(run_dir)
    if not (run_dir / "model.safetensors").is_file():
        raise UserError(f"{run_dir}: no model.safetensors here; pass a run folder written by 'vaekit train'")
    config = load_config(run_dir / "config.yaml")
    if data_spec is None and config.data.source == "arrays":
        raise UserError(f"{run_dir}: this run was trained on arrays passed in Python; pass --data to evaluate it")
    torch_device = resolve_device(device)
    model, _, _ = load_model(run_dir / "model.safetensors", torch_device)
    if data_spec is not None:  # nothing is held out of a file given to evaluate: score all of it
        config = config.replace(data={"validation": "none"})
    return evaluation_data(model, config, prepare_data(config, data_spec, torch_device))


def evaluation_data(model: LatentVariableModel, config: Config, prepared: PreparedData) -> EvaluationData:
    """The model with the split to evaluate it on (see ``evaluation_split``), checked to fit its shape."""
    split, data, train = evaluation_split(prepared, config)
    if data.shape != model.data_shape:
        raise UserError(f"{data.name}: examples of shape {data.shape} do not fit this model's shape {model.data_shape}")
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
