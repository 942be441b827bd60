"""Stages a model runs after its training (a VQ-VAE's code prior), epoch by epoch, each checkpointed
to a file of its own so that an interrupted stage resumes where it stopped.

A stage (see ``vaekit.models.code_prior.PriorFitting``) has ``name``, ``epochs``, ``epoch`` (done),
``history`` (one row per epoch), ``module`` and ``optimizer`` (its state), ``run_epoch(on_batch) -> row``
(``on_batch(step, steps, values)`` after each step, values (B,) the batch's loss) and ``finish() -> numbers``. Its shuffling must be seeded by the epoch, not by a running generator,
since the checkpoint holds no random state.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..objectives import Output
from .checkpoint import load_tensors, save_tensors
from .resume import load_optimizer, optimizer_tensors
from .trainer import StepInfo

MODULE, OPTIMIZER = "module.", "optimizer."


def run_stage(stage, path: str | Path, on_epoch: Callable | None = None, on_step: Callable | None = None) -> dict:
    """Run ``stage`` to its last epoch, continuing from ``path`` when it holds a checkpoint of it,
    saving there after every epoch and calling ``on_epoch(stage)``; ``on_step`` gets a ``StepInfo``
    after each step, as the trainer's does (its loss the batch's mean, its terms the stage's own).
    Returns ``stage.finish()``."""
    path = Path(path)
    if path.is_file():
        restore(stage, path)
    while stage.epoch < stage.epochs:
        stage.run_epoch(None if on_step is None else step_reporter(stage, on_step))
        save(stage, path)
        if on_epoch is not None:
            on_epoch(stage)
    return stage.finish()


def step_reporter(stage, on_step: Callable) -> Callable:
    """``on_batch(step, steps, values)`` for the stage's epoch -> ``on_step(StepInfo)``, values (B,) its loss terms."""

    def report(step: int, steps: int, values) -> None:
        on_step(StepInfo(stage.epoch, step, steps, Output(values.mean(), {stage.name: values})))

    return report


def save(stage, path: Path) -> None:
    optimizer_state = stage.optimizer.state_dict()
    tensors = {**{MODULE + key: value for key, value in stage.module.state_dict().items()},
               **optimizer_tensors(optimizer_state, OPTIMIZER)}
    metadata = {"stage": stage.name, "epoch": stage.epoch, "history": stage.history,
                "optimizer_param_groups": optimizer_state["param_groups"]}
    save_tensors(path, tensors, metadata)


def restore(stage, path: Path) -> None:
    tensors, metadata = load_tensors(path)
    stage.module.load_state_dict({key[len(MODULE):]: value for key, value in tensors.items() if key.startswith(MODULE)})
    load_optimizer(stage.optimizer, tensors, OPTIMIZER, metadata["optimizer_param_groups"])
    stage.epoch, stage.history = metadata["epoch"], metadata["history"]
