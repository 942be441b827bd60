"""The training loop's save step: after each epoch the resume state is packed (a collective under
torch.distributed, so every rank takes part), global rank 0 writes the best and last weights, the
metrics and the TensorBoard events, and every rank waits for it before the next epoch."""

from __future__ import annotations

from typing import Callable

from ..rundir import RunDir
from ..training import distributed
from ..training import resume as resume_state
from ..training.tensorboard import EpochWriter
from ..training.trainer import TrainState


class EpochSaver:
    """``saver(state, improved)`` after each epoch, as ``Trainer.fit`` calls it; a context manager that
    closes the event files. ``metadata``: the plain values stored with the weights (the data transform)."""

    def __init__(self, run: RunDir, model, config, metadata: dict, optimizer, schedule, objective, device,
                 on_epoch: Callable | None = None):
        self.run, self.model, self.config, self.metadata = run, model, config, metadata
        self.optimizer, self.schedule, self.objective, self.device = optimizer, schedule, objective, device
        self.on_epoch = on_epoch
        self.writes = distributed.is_first()  # only global rank 0 writes
        self.events = EpochWriter(run.events) if self.writes else None

    def __call__(self, state: TrainState, improved: bool) -> None:
        tensors, resume = resume_state.pack(self.optimizer, self.schedule, state, self.device, self.objective)
        tensors, resume = parallel_resume_state(tensors, resume, self.device)  # a collective: every rank
        if self.writes:
            if improved:
                self.run.save_model(self.model, self.config, self.metadata)
            self.run.save_resume(self.model, self.config, {**self.metadata, **resume}, tensors)
            self.run.write_metrics(state.history)
            self.events.write(state.history[-1])
        distributed.barrier()
        if self.on_epoch is not None:
            self.on_epoch(state)

    def __enter__(self) -> EpochSaver:
        return self

    def __exit__(self, *exc) -> None:
        if self.events is not None:
            self.events.close()


def parallel_resume_state(tensors: dict, metadata: dict, device) -> tuple[dict, dict]:
    """Adds every rank's RNG state (a collective) under torch.distributed; unchanged otherwise."""
    if not distributed.joined():
        return tensors, metadata
    states, gathered = distributed.gather_rng(device)
    return {**tensors, **{resume_state.PREFIX + key: value for key, value in states.items()}}, {**metadata, **gathered}
