"""A training run: data, model and trainer wired together, written to one run folder
(its files: ``vaekit.rundir.RunDir``)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from ..config import Config, load_config
from ..data.streaming import StreamedData
from ..errors import UserError
from ..figures.curves import training_curves
from ..figures.grids import comparison_grid, image_grid
from ..models.conditional import label_count, model_labels
from ..models.model import LatentVariableModel, build_model
from ..models.registry import MODELS
from ..models.priors import Prior
from ..nn.precision import check_precision
from ..objectives import build_objective
from ..rundir import RunDir
from ..seeding import seeded
from ..training import distributed
from ..training import resume as resume_state
from ..training.checkpoint import hardware, load_model, load_tensors, versions
from ..training.trainer import Trainer, TrainState, make_optimizer, make_schedule
from .claim import RunClaim
from .open import evaluation_data
from .prepared import PreparedData, make_batches, prepare_data, resolve_device, training_inputs
from .saving import EpochSaver
from .stages import finish_training

# The common settings as keyword arguments / command-line flags: name -> (section, key). Most flags are
# the key of the same name in their section; the part names are the 'name' of their section.
FLAG_FIELDS = {
    "model": ("model", "name"),
    **{key: ("model", key) for key in ("latent_dim", "likelihood", "trunk", "prior", "conditional")},
    "objective": ("objective", "name"),
    "beta": ("objective", "beta"),
    **{key: ("train", key) for key in ("epochs", "batch_size", "lr", "seed", "device")},
}


@dataclass
class Run:
    """A finished (or stopped) run: its folder, best model, config, prepared data and state."""

    dir: Path
    model: LatentVariableModel
    config: Config
    state: TrainState
    data: PreparedData


def apply_flags(config: Config, assignments: list[str] = (), **flags) -> Config:
    """Config with ``assignments`` ('section.key=value', --set) and then the FLAG_FIELDS keyword
    arguments that are not None applied, as one layer (``Config.layer``)."""
    return config.layer(list(assignments), **flag_sections(**flags))


def flag_sections(**flags) -> dict[str, dict]:
    """The FLAG_FIELDS keyword arguments that are not None as {section: {key: value}}."""
    sections: dict[str, dict] = {}
    for flag, value in flags.items():
        if flag not in FLAG_FIELDS:
            raise UserError(f"unknown setting {flag!r}; known: {', '.join(FLAG_FIELDS)} (or pass a Config)")
        if value is not None:
            section, key = FLAG_FIELDS[flag]
            sections.setdefault(section, {})[key] = value
    return sections


def new_run_path(config: Config, out: str | Path | None) -> Path:
    """``out``, or by default runs/MODEL-DATA-TIME."""
    if out is None:
        name = config.data.source.replace("/", "_").replace(":", "_").strip("._") or "data"
        out = Path("runs") / f"{config.model.name}-{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    return Path(out)


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
            **label_metadata(train),
        }
    }


def resolved_classes(config: Config, data: PreparedData) -> dict:
    """{'classes': L} for a conditional model (from the training labels), else nothing."""
    return {"classes": label_count(config.model, data.train)} if config.model.get("conditional", False) else {}


def stored_as_used(config: Config, data: PreparedData) -> Config:
    """The config with what training chose filled in: the likelihood 'auto' named (its options checked
    against it), a conditional model's classes, the objective 'auto' named."""
    likelihood = {**config.model.likelihood, "name": data.likelihood}
    objective = MODELS.facts(config.model.name).get("objective", "auto") if config.objective.name == "auto" else None
    return config.replace(model={"likelihood": likelihood, **resolved_classes(config, data)},
                          objective={"name": objective} if objective else {})


def label_metadata(train) -> dict:
    """The class names and the labels seen in training (a conditional model samples only those)."""
    labels = getattr(train, "labels", None)
    if labels is None:
        return {}
    return {"classes": getattr(train, "classes", None), "labels_seen": labels.unique().cpu().tolist()}


def write_figures(run: RunDir, model: LatentVariableModel, data: PreparedData, history: list[dict]) -> None:
    part = data.test or data.val or data.train
    inputs, labels = part.inputs(slice(0, 32)), part.labels[:32] if model.classes else None  # a conditional model's
    model.eval()
    comparison_grid(inputs, model.reconstruct(inputs, labels).cpu(), run.figure(run.FIGURES.RECONSTRUCTIONS),
                    "inputs and reconstructions")
    if model.prior is not None:
        with seeded(0, next(model.parameters()).device):
            image_grid(model.sample(64).cpu(), run.figure(run.FIGURES.SAMPLES), 8, "samples from the prior")
    if history:
        training_curves(history, run.figure(run.FIGURES.CURVES))


def train(
    config: Config | str | Path | None = None,
    data=None,
    out: str | Path | None = None,
    resume: str | Path | None = None,
    on_step: Callable | None = None,
    on_epoch: Callable | None = None,
    assignments: list[str] = (),
    **flags,
) -> Run:
    """Train a model and write its run folder; returns the ``Run``.

    config: a Config, a YAML path, or None for the defaults; flags (model, latent_dim, likelihood,
    trunk, prior, conditional, objective, beta, epochs, batch_size, lr, seed, device) override it. data: a ``--data`` string, an
    array/tensor (N, ...) or (inputs, labels); None uses config.data.source. resume: a run folder
    to continue (its stored config is used; pass ``data`` again if it was given as arrays), to
    ``epochs`` epochs when given (a finished run is extended), with new optimisation settings when given:
    ``lr`` and the 'train.KEY=VALUE' ``assignments`` of RESUME_CHANGES (``continued_schedule``).
    ``assignments`` of a new run: any 'section.key=value' (--set), applied before the flags.

    Started by torchrun (RANK, WORLD_SIZE in the environment), each process trains one share of
    every batch (``vaekit.training.distributed``) and global rank 0 writes the run folder.

    The run folder is checked before any work and held for the whole training (``RunClaim``): a folder in
    use by another training is refused naming it, and a new run that fails before its first checkpoint
    removes what it wrote.
    """
    if resume is not None:
        epochs = flags.pop("epochs", None)
        changes = resume_changes(list(assignments), flags.pop("lr", None))
        check_resume(config, out, flags)
        run_dir = Path(resume)
        config = RunDir(run_dir).read_config()
        if epochs is not None:
            check_more_epochs(run_dir, epochs)  # before config.yaml is rewritten
            config = config.replace(train={"epochs": epochs})
        config = config.layer(changes, "--resume --set")  # the new optimisation settings, validated
    else:
        run_dir = None  # made by _fit once the model is built
        config = config if isinstance(config, Config) else (Config() if config is None else load_config(config))
        config = apply_flags(config, list(assignments), **flags)
        if data is not None and not isinstance(data, str):
            config = config.replace(data={"source": "arrays"})
        elif data is not None:
            config = config.replace(data={"source": data})
    device = distributed.join(resolve_device(config.train.device))  # this rank's device under torchrun
    with RunClaim() as claim:  # global rank 0 claims; the others hold nothing
        if run_dir is None:
            out = distributed.on_first(lambda: claim.check_new(new_run_path(config, out)))  # taken in _fit
        else:
            distributed.on_first(lambda: claim.existing(run_dir))
        prepared = prepare_data(config, data, device)
        config = stored_as_used(config, prepared)
        check_parallel(config, prepared)
        check_precision(config.train.precision)
        return _fit(config, prepared, run_dir, out, device, on_step, on_epoch, claim)


def check_resume(config, out, flags: dict) -> None:
    """--resume continues a run with its stored config: refuse (naming them) a config, an --out or a
    setting other than the number of epochs and the learning rate (``resume_changes`` checks the
    --set ones), before anything is read or written."""
    given = [f"--{flag.replace('_', '-')}" for flag, value in flags.items() if value is not None and flag != "epochs"]
    given += ["--out"] if out is not None else []
    given += ["--config, --set or the data options"] if config is not None else []
    if given:
        raise UserError(f"--resume uses the run's stored config (only --epochs, --lr and --set {', '.join(RESUME_CHANGES)} "
                        f"may change); drop {', '.join(given)}")


RESUME_CHANGES = ("train.lr", "train.lr_schedule")  # what --resume may change, beside --epochs


def resume_changes(assignments: list[str], lr: float | None) -> list[str]:
    """The 'train.KEY=VALUE' changes a resumed run takes (``--set`` of RESUME_CHANGES, and ``--lr``);
    a UserError naming any other setting, before anything is read or written."""
    refused = [a for a in assignments if a.partition("=")[0].strip() not in RESUME_CHANGES]
    if refused:
        raise UserError(f"--resume continues the run's stored config and may change only {', '.join(RESUME_CHANGES)} "
                        f"(--set) and --epochs; drop --set {' --set '.join(refused)}")
    return [*assignments, *([f"train.lr={lr!r}"] if lr is not None else [])]


def continued_schedule(run_dir: Path, optimizer, schedule, config: Config, state: TrainState):
    """The schedule a resumed run continues with. When train.lr or train.lr_schedule differ from what the
    restored optimiser ran with (the stored config's, or the lr in the checkpoint), every parameter group
    takes the new lr and a fresh schedule of the new kind runs over the remaining epochs (a cosine
    decays from the new lr to 0 at the last epoch); else the restored schedule. A change of the stored
    settings (epochs, lr, schedule) is appended to run.json's history (rank 0)."""
    before, after = RunDir(run_dir).read_config().train, config.train
    changed = {key: [getattr(before, key), getattr(after, key)] for key in ("epochs", "lr", "lr_schedule")
               if getattr(before, key) != getattr(after, key)}
    if changed and distributed.is_first():
        RunDir(run_dir).append_history({"resumed_at_epoch": state.epoch, "changed": changed,
                                         "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
    restored_lr = optimizer.param_groups[0].get("initial_lr", optimizer.param_groups[0]["lr"])
    if restored_lr == after.lr and before.lr_schedule == after.lr_schedule:
        return schedule
    for group in optimizer.param_groups:
        group["lr"] = group["initial_lr"] = after.lr
    return make_schedule(optimizer, after.lr_schedule, after.epochs - state.epoch)


def check_more_epochs(run_dir: Path, epochs: int) -> None:
    """--resume RUN --epochs M: refuse M at or below the epochs RUN has done (it would do nothing)."""
    done = RunDir(run_dir).epochs_done()
    if epochs <= done:
        raise UserError(f"{run_dir}: already trained {done} epochs; --epochs must be more than {done}, got {epochs}")


def _fit(config, prepared, run_dir: Path | None, out: Path, device, on_step, on_epoch, claim: RunClaim) -> Run:
    """Train into ``run_dir`` (a run to resume), or for a new run (None) into the folder ``out`` that rank 0
    claims once the model and objective are built, so a part's own range check fails before anything is
    written."""
    resuming = run_dir is not None
    with seeded(config.train.seed, device):
        model = build_model(config.model, prepared.train.shape).to(device)
        if not resuming and isinstance(model.prior, Prior):  # on resume the checkpoint holds what it took
            exemplar_generator = torch.Generator().manual_seed(config.train.seed)  # the global stream is left alone
            model.prior.take_exemplars(training_inputs(config, prepared), exemplar_generator)
        objective = build_objective(config.objective, model)
        if not resuming:
            run_dir = distributed.on_first(lambda: claim.new(out))  # or every rank stops
        optimizer = make_optimizer(model, config.train.lr, device)
        schedule = make_schedule(optimizer, config.train.lr_schedule, config.train.epochs)
        state = _restore(run_dir, model, optimizer, schedule, device, config, objective) if resuming else None
        if resuming:  # new optimisation settings take effect here, and are recorded
            schedule = continued_schedule(run_dir, optimizer, schedule, config, state)
        if distributed.joined() and not resuming:
            distributed.split_streams(config.train.seed, device)  # model built alike; noise per rank
        first = distributed.is_first()  # only global rank 0 writes
        run = RunDir(run_dir)
        if first and (not resuming or config != run.read_config()):
            run.save_config(config)  # new, or extended to more epochs
        metadata = data_metadata(prepared)
        if first:
            run.write_run_info({"versions": versions(), "device": str(device), "hardware": hardware(device),
                                **parallel_metadata(), **metadata})
        trainer_class = distributed.DistributedTrainer if distributed.joined() else Trainer
        trainer = trainer_class(model, objective, config.train, optimizer, schedule, state)
        batches = run_batches(prepared, config, device, model_labels(model, prepared.train))
        with EpochSaver(run, model, config, metadata, optimizer, schedule, objective, device, on_epoch) as save_epoch:
            state = trainer.fit(batches, prepared.val, on_step, save_epoch)
    if not first:  # the others wait while rank 0 writes the figures and the report
        distributed.barrier()
        return Run(run_dir, model, config, state, prepared)
    best, _, _ = load_model(run.weights, device) if state.epoch else (model, None, None)
    finish_training(run, best, config, prepared, metadata, on_epoch, on_step)  # the model's own last stages (a VQ-VAE's code prior)
    write_figures(run, best, prepared, state.history)
    if config.train.report:
        from .report import write_report  # the report pulls in the evaluation and latent tools

        write_report(run_dir, evaluated=evaluation_data(best, config, prepared))
    distributed.barrier()
    return Run(run_dir, best, config, state, prepared)


def _restore(run_dir: Path, model, optimizer, schedule, device, config, objective=None) -> TrainState:
    tensors, metadata = load_tensors(RunDir(run_dir).resume)
    model.load_state_dict(resume_state.model_tensors(tensors))
    state = resume_state.unpack(tensors, metadata, optimizer, schedule, device, objective)
    if distributed.joined() or "world_size" in metadata:
        message = distributed.restore_rng(tensors, metadata, resume_state.PREFIX, device, config.train.seed)
        if message and distributed.is_first():
            logging.getLogger("vaekit").info(message)
    return state


def check_parallel(config: Config, prepared: PreparedData) -> None:
    """Refuse, before anything is written, what data-parallel training cannot do."""
    if distributed.joined() and isinstance(prepared.train, StreamedData):
        raise UserError(f"{prepared.train.name}: training on several processes needs the data in memory, but this run "
                        "streams it from the files; set data.stream=never (if it fits) or train on one process")
    if distributed.joined():  # checks the batch size and the steps
        steps = config.train.steps_per_epoch  # its range is TrainConfig's to check
        distributed.ShardedBatches(prepared.train, config.train.batch_size, False, 0, steps=steps)


def run_batches(prepared: PreparedData, config: Config, device, labels: torch.Tensor | None = None):
    """The plain trainer's batches, or this rank's shares of each global batch under torch.distributed;
    ``labels`` (N,): the training split's, for a conditional model."""
    return make_batches(prepared, config.train.batch_size, device, config.train.steps_per_epoch, labels,
                        sharded=distributed.joined(), seed=config.train.seed)


def parallel_metadata() -> dict:
    """run.json's record of a data-parallel run: the number of processes (none for one process)."""
    return {"world_size": distributed.world_size()} if distributed.joined() else {}




