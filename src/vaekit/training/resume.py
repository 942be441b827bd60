"""Resume state as tensors and plain values: optimizer, schedule, RNG and trainer state.

Stored in the run's last weights (``RunDir.RESUME``) beside them under the ``resume.`` prefix, so one atomic
write keeps weights and resume state consistent.
"""

from __future__ import annotations

import dataclasses

import torch

from ..objectives.protocols import HasTrainingState
from .checkpoint import RESUME_PREFIX as PREFIX
from .trainer import TrainState

OBJECTIVE = f"{PREFIX}objective."  # an objective's own module and optimiser (FactorVAE's discriminator)


def pack(optimizer, schedule, state: TrainState, device: torch.device, objective=None) -> tuple[dict, dict]:
    """(tensors, metadata) holding everything needed to continue bit-identically; with ``objective``
    also its own ``module`` and ``optimizer`` where it has them (see vaekit.objectives)."""
    optimizer_state = optimizer.state_dict()
    tensors = optimizer_tensors(optimizer_state, f"{PREFIX}optimizer.")
    tensors.update(objective_tensors(objective))
    tensors[f"{PREFIX}rng.cpu"] = torch.get_rng_state()
    if device.type == "cuda":
        tensors[f"{PREFIX}rng.cuda"] = torch.cuda.get_rng_state(device)
    metadata = {
        "optimizer_param_groups": optimizer_state["param_groups"],
        "schedule": schedule.state_dict(),
        "train_state": dataclasses.asdict(state),
    }
    _, own_optimizer = own_state(objective)
    if own_optimizer is not None:
        metadata["objective_optimizer_param_groups"] = own_optimizer.state_dict()["param_groups"]
    return tensors, metadata


def unpack(tensors: dict, metadata: dict, optimizer, schedule, device: torch.device, objective=None) -> TrainState:
    """Restore optimizer, schedule, the objective's own state (``pack``) and (inside the caller's RNG
    fork) the RNG; returns the trainer state."""
    load_optimizer(optimizer, tensors, f"{PREFIX}optimizer.", metadata["optimizer_param_groups"])
    load_objective(objective, tensors, metadata)
    schedule.load_state_dict(metadata["schedule"])
    torch.set_rng_state(tensors[f"{PREFIX}rng.cpu"])
    if device.type == "cuda" and f"{PREFIX}rng.cuda" in tensors:
        torch.cuda.set_rng_state(tensors[f"{PREFIX}rng.cuda"], device)
    return TrainState.from_dict(metadata["train_state"])


def model_tensors(tensors: dict) -> dict:
    """The model's own weights, without the resume state."""
    return {key: value for key, value in tensors.items() if not key.startswith(PREFIX)}


def optimizer_tensors(optimizer_state: dict, prefix: str) -> dict:
    """PREFIX.INDEX.NAME -> tensor for each parameter's state in an optimiser's ``state_dict()``."""
    return {
        f"{prefix}{index}.{name}": value
        for index, values in optimizer_state["state"].items()
        for name, value in values.items()
    }


def load_optimizer(optimizer, tensors: dict, prefix: str, param_groups: list) -> None:
    """The inverse of ``optimizer_tensors``, with the param groups stored as JSON."""
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith(prefix):
            index, name = key[len(prefix) :].split(".", 1)
            state.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": state, "param_groups": param_groups})


def own_state(objective) -> tuple[torch.nn.Module | None, torch.optim.Optimizer | None]:
    """The objective's own (module, optimizer) (``HasTrainingState``); (None, None) for one without them."""
    if isinstance(objective, HasTrainingState):
        return objective.module, objective.optimizer
    return None, None


def objective_tensors(objective) -> dict:
    """An objective's own module state and optimiser state as tensors ({} for an objective without them)."""
    module, own_optimizer = own_state(objective)
    tensors = {}
    if module is not None:
        tensors.update({f"{OBJECTIVE}module.{k}": v for k, v in module.state_dict().items()})
    if own_optimizer is not None:
        tensors.update(optimizer_tensors(own_optimizer.state_dict(), f"{OBJECTIVE}optimizer."))
    return tensors


def load_objective(objective, tensors: dict, metadata: dict) -> None:
    """The inverse of ``objective_tensors``."""
    module, own_optimizer = own_state(objective)
    if module is not None:
        prefix = f"{OBJECTIVE}module."
        module.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
    if own_optimizer is not None:
        load_optimizer(own_optimizer, tensors, f"{OBJECTIVE}optimizer.",
                       metadata["objective_optimizer_param_groups"])
