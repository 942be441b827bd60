"""One point of a sweep, as a worker runs it: train (or resume) its run folder, evaluate it, write its record.

A ``Job`` is plain values, so it travels to a worker process or a Ray task. ``run_job`` pins the
worker's PyTorch threads first (before any torch work), then trains through ``vaekit.runs.train`` like
'vaekit train' (a run folder with a checkpoint is resumed; one without any is started afresh),
runs the point's evaluations, and writes the record last (``StudyDir.write_record``): its presence
marks the point done. A failure (a non-finite loss, out of memory, any exception) is recorded with
its error; a stop request ends the run at the next step, leaving it resumable, with no record.
"""

from __future__ import annotations

import math
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from ..config import Config
from ..rundir import RunDir
from .evaluations import Evaluation
from .folder import StudyDir

DONE, FAILED = "done", "failed"


class StopFlag(Protocol):
    """What the engines pass to ask running points to stop (a multiprocessing Event, a threading Event)."""

    def is_set(self) -> bool: ...


class Stopped(Exception):
    """Raised at a step boundary when the sweep is asked to stop; the run folder stays resumable."""


@dataclass
class Job:
    """One point to run: its name, config (``Config.to_dict()``), swept settings and seed, the study folder,
    its evaluations and the PyTorch threads its process may use."""

    name: str
    variant: str | None
    config: dict
    settings: dict[str, Any]
    seed: int
    study: str
    evaluations: list[tuple[str, Evaluation]] = field(default_factory=list)
    threads: int = 1


def run_job(job: Job, stop: StopFlag | None = None) -> dict | None:
    """Run ``job`` and return its record (also written to the study folder); None when it was stopped."""
    if stop is not None and stop.is_set():  # queued before the stop: not started at all
        return None
    torch.set_num_threads(job.threads)
    started = time.perf_counter()
    record = {"name": job.name, "variant": job.variant, "settings": job.settings, "seed": job.seed, "threads": job.threads}
    run_dir = StudyDir(job.study).run_dir(job.name)
    try:
        run = train_point(job, run_dir, stop)
        record["train_seconds"] = time.perf_counter() - started
        record["metrics"] = training_numbers(run)
        record["steps"] = run.state.epoch * steps_per_epoch(run)
        for _, evaluation in job.evaluations:
            check_stop(stop)  # a stop asked during training's last steps or an evaluation ends here
            record["metrics"].update(evaluation.run(run_dir, run.config.train.device))
        record["status"] = DONE
    except Stopped:
        return None
    except Exception as error:  # any failure of one point is recorded; the sweep goes on
        record.update(status=FAILED, error=one_line(error), traceback=traceback.format_exc(limit=8))
    record["wall_seconds"] = time.perf_counter() - started
    StudyDir(job.study).write_record(record)
    return record


def check_stop(stop: StopFlag | None) -> None:
    """Raise ``Stopped`` when the sweep has asked its running points to stop."""
    if stop is not None and stop.is_set():
        raise Stopped


def record_failure(job: Job, error: str) -> dict:
    """Record ``job`` as failed with ``error`` where its worker could not (the process or task died)."""
    record = {"name": job.name, "variant": job.variant, "settings": job.settings, "seed": job.seed,
              "status": FAILED, "error": error}
    StudyDir(job.study).write_record(record)
    return record


def train_point(job: Job, run_dir: Path, stop: StopFlag | None):
    """Train the point's run folder: resumed from its checkpoint when it has one, else started afresh
    (a folder left without a checkpoint holds nothing to keep)."""
    from ..runs.train import train

    def on_step(_info) -> None:
        check_stop(stop)

    if RunDir(run_dir).resume.is_file():
        return train(resume=run_dir, on_step=on_step)
    if run_dir.exists():
        shutil.rmtree(run_dir)
    return train(Config.from_dict(job.config, job.name), out=run_dir, on_step=on_step)


def steps_per_epoch(run) -> int:
    """The optimiser steps of one epoch of ``run`` (a full pass in batches, or train.steps_per_epoch)."""
    full = math.ceil(len(run.data.train) / run.config.train.batch_size)
    return min(full, run.config.train.steps_per_epoch) if run.config.train.steps_per_epoch > 0 else full


def training_numbers(run) -> dict[str, float]:
    """The best epoch's metrics.csv row (the last when none was best): validation and training terms."""
    history = run.state.history
    if not history:
        return {}
    best = run.state.best_epoch or len(history)
    row = history[best - 1]
    return {key: value for key, value in row.items() if key.startswith(("val_", "train_")) and _finite_number(value)} | {
        "epochs": run.state.epoch, "best_epoch": best}


def _finite_number(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def one_line(error: BaseException) -> str:
    """'Type: message' on one line."""
    return f"{type(error).__name__}: {' '.join(str(error).split())}"
