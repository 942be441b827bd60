"""The end of a training run: the stages the trained model asks for (``training_stages``; a VQ-VAE
fits its code prior), run on the best weights, resumable, and the model saved with what they fit;
and fitting a trained run's code prior again ('vaekit fit-code-prior')."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

from ..models.code_prior import PriorFitting, fit_code_prior
from ..rundir import RunDir
from ..seeding import seeded
from ..training.stages import run_stage
from .evaluate import probe_training_data
from .open import EvaluationData, evaluation_data, open_run


class StageData:
    """The splits a stage learns from: ``train``, the training split as evaluation sees it (binarised
    once under dynamic binarisation; prepared on first use, so a model without stages costs nothing),
    and ``val``, the validation split (or None)."""

    def __init__(self, model, config, prepared):
        self.model, self.config, self.prepared, self.val = model, config, prepared, prepared.val

    @functools.cached_property
    def train(self):
        evaluated = evaluation_data(self.model, self.config, self.prepared)
        return self.prepared.train if evaluated.train is None else probe_training_data(evaluated)


def finish_training(run: RunDir, model, config, prepared, metadata: dict, on_epoch: Callable | None = None,
                    on_step: Callable | None = None) -> None:
    """Run ``model.training_stages`` (none for most models) and save the run's weights with what they
    fitted and their numbers (under each stage's name) beside ``metadata``. Each stage learns from
    ``StageData`` and checkpoints to ``run.stage_checkpoint(NAME)``, so ``--resume`` continues it;
    ``on_epoch`` and ``on_step`` as in ``vaekit.training.stages.run_stage``."""
    stages = model.training_stages(StageData(model, config, prepared), config.train.seed)
    if not stages:
        return
    numbers = {}
    with seeded(config.train.seed, next(model.parameters()).device):
        for stage in stages:
            numbers[stage.name] = run_stage(stage, run.stage_checkpoint(stage.name), on_epoch, on_step)
    run.save_fitted(model, numbers, config, metadata)


@dataclass
class RefittedPrior:
    """What ``refit_code_prior`` did: the run opened for evaluation (its model now holds the new prior), the prior's
    numbers (``vaekit.models.code_prior.PriorFitting.finish``) and the split they were held out on (or None)."""

    evaluated: EvaluationData
    numbers: dict
    held_out: str | None


def refit_code_prior(run_dir, device: str = "auto", data_spec=None, epochs: int = 20, batch_size: int = 128,
                     lr: float = 1e-3, seed: int = 0) -> RefittedPrior:
    """Fit a new code prior to a trained VQ-VAE run and store it with its weights (replacing one fitted
    before), the numbers under "code_prior" as training stores them. It learns from the run's training
    split as evaluation sees it (binarised once under dynamic binarisation) and reports -log p(codes)
    of the evaluation split as val_code_nll_nats; with ``data_spec`` and no test split there, all of it
    is learnt from and nothing is held out."""
    run = RunDir.check(run_dir)
    evaluated = open_run(run.path, device, data_spec)
    train = evaluated.data if evaluated.train is None else probe_training_data(evaluated)
    held_out = None if evaluated.train is None else evaluated.data
    numbers = fit_code_prior(evaluated.model, train, held_out, epochs, batch_size, lr, seed)
    run.save_fitted(evaluated.model, {PriorFitting.name: numbers})  # as training stores it
    return RefittedPrior(evaluated, numbers, None if held_out is None else evaluated.split)
