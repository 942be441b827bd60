"""The end of a training run: the stages the trained model asks for (``training_stages``; a VQ-VAE
fits its code prior), run on the best weights, resumable, and the model saved with what they fit."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Callable

from ..seeding import seeded
from ..training.checkpoint import save_model
from ..training.stages import run_stage
from .evaluate import probe_training_data
from .open import evaluation_data


class StageData:
    """The splits a stage learns from: ``train``, the training split as evaluation sees it (binarised
    once under dynamic binarisation; prepared on first use, so a model without stages costs nothing),
    and ``val``, the validation split (or None)."""

    def __init__(self, model, config, prepared):
        self.model, self.config, self.prepared, self.val = model, config, prepared, prepared.val

    @functools.cached_property
    def train(self):
        opened = evaluation_data(self.model, self.config, self.prepared)
        return self.prepared.train if opened.train is None else probe_training_data(opened)


def finish_training(run_dir: Path, model, config, prepared, extra: dict, on_epoch: Callable | None = None,
                    on_step: Callable | None = None) -> None:
    """Run ``model.training_stages`` (none for most models) and save RUN_DIR/model.safetensors with
    what they fitted and their numbers (under each stage's name) in its metadata. Each stage learns
    from ``StageData`` and checkpoints to RUN_DIR/NAME.safetensors, so ``--resume`` continues it;
    ``on_epoch`` and ``on_step`` as in ``vaekit.training.stages.run_stage``."""
    stages = model.training_stages(StageData(model, config, prepared), config.train.seed)
    if not stages:
        return
    numbers = {}
    with seeded(config.train.seed, next(model.parameters()).device):
        for stage in stages:
            numbers[stage.name] = run_stage(stage, run_dir / f"{stage.name}.safetensors", on_epoch, on_step)
    save_model(run_dir / "model.safetensors", model, config, {**extra, **numbers})
