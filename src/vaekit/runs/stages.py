"""The end of a training run: the stages the trained model asks for (``training_stages``; a VQ-VAE
fits its code prior), run on the best weights, resumable, and the model saved with what they fit."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..seeding import seeded
from ..training.checkpoint import save_model
from ..training.stages import run_stage
from .evaluate import probe_training_data
from .open import evaluation_data


def finish_training(run_dir: Path, model, config, prepared, extra: dict, on_epoch: Callable | None = None,
                    on_step: Callable | None = None) -> None:
    """Run ``model.training_stages`` (none for most models) and save RUN_DIR/model.safetensors with
    what they fitted and their numbers (under each stage's name) in its metadata. A stage learns from
    the training split as evaluation sees it (binarised once under dynamic binarisation) and reports
    on the validation split; RUN_DIR/NAME.safetensors checkpoints each, so ``--resume`` continues it."""
    opened = evaluation_data(model, config, prepared)
    train = prepared.train if opened.train is None else probe_training_data(opened)
    stages = model.training_stages(train, prepared.val, config.train.seed)
    if not stages:
        return
    numbers = {}
    with seeded(config.train.seed, next(model.parameters()).device):
        for stage in stages:
            numbers[stage.name] = run_stage(stage, run_dir / f"{stage.name}.safetensors", on_epoch, on_step)
    save_model(run_dir / "model.safetensors", model, config, {**extra, **numbers})
